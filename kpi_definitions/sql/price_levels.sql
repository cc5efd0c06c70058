-- Our price index as a level by month (100 in the range's first month), from the monthly links of the
-- price KPI's finance view (sql/price_finance.sql): level_t = 100 × Π L_k over the range's months k ≤ t
-- after the first; a month with no link carries the level on.
WITH links AS (
    SELECT b.m{dims}, @div(sum(a.spend0 * @div(@div(b.spend, b.qty), @div(a.spend0, a.qty0))), sum(a.spend0)) AS link
    FROM price_items b
    JOIN (SELECT m + 1 AS m1, k AS k0, spend AS spend0, qty AS qty0 FROM price_items) a
      ON a.k0 = b.k AND a.m1 = b.m AND b.spend IS NOT NULL AND a.spend0 IS NOT NULL  -- both months priced
    WHERE b.m IN (SELECT m FROM buckets)
    GROUP BY ALL
),
slices AS (SELECT DISTINCT 1 AS one{dims} FROM price_items WHERE m IN (SELECT m FROM buckets)),
grid AS (SELECT b.m, b.period, s.* FROM buckets b CROSS JOIN slices s)
SELECT period{dims}, m,
       100 * exp(sum(CASE WHEN m > (SELECT min(m) FROM buckets) THEN ln(coalesce(link, 1)) ELSE 0 END)
                 OVER (PARTITION BY one{dims} ORDER BY m)) AS level
FROM grid LEFT JOIN links USING (m{dims})
ORDER BY m
