-- Share of actual spend on invoice lines that are {managed}. Null when the period's spend is 0.
-- Summed per month first, then per period.
WITH spend AS (
    SELECT x.m{dims}, sum(x.amount_rep) FILTER (WHERE x.{managed}) AS managed, sum(x.amount_rep) AS spend,
           count(*) FILTER (WHERE x.amount_rep IS NULL) AS excluded
    FROM {lines} x
    GROUP BY ALL
)
SELECT b.period{dims},
       coalesce(sum(x.managed), 0) / nullif(sum(x.spend), 0) AS value,
       coalesce(sum(x.excluded), 0) AS excluded
FROM buckets b
LEFT JOIN spend x ON x.m = b.m
GROUP BY ALL
