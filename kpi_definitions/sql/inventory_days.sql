-- Days of consumption the stock covers: average over the period's snapshot dates of the stock value
-- ({stock}), divided by the consumption value per day of the period. Null without a snapshot or when
-- nothing was consumed.
WITH per_snapshot AS (
    SELECT b.period{dims}, x.snapshot_date, sum(x.{stock}) AS stock,
           count(x.m) FILTER (WHERE x.{stock} IS NULL) AS excluded
    FROM buckets b LEFT JOIN inventory_lines x ON x.m = b.m
    GROUP BY ALL
),
stock AS (
    SELECT period{dims}, avg(stock) FILTER (WHERE snapshot_date IS NOT NULL) AS avg_stock, sum(excluded) AS excluded
    FROM per_snapshot GROUP BY ALL
),
consumed AS (
    SELECT b.period{dims}, sum(x.value_rep) AS consumed, count(x.m) FILTER (WHERE x.value_rep IS NULL) AS excluded
    FROM buckets b LEFT JOIN consumption_lines x ON x.m = b.m
    GROUP BY ALL
)
SELECT period{dims},
       CASE WHEN coalesce(c.consumed, 0) <> 0 THEN @div(s.avg_stock, @div(c.consumed, d.days)) END AS value,
       coalesce(s.excluded, 0) + coalesce(c.excluded, 0) AS excluded
FROM stock s FULL JOIN consumed c USING (period{dims}) JOIN period_days d USING (period)
