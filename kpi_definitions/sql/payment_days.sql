-- Amount-weighted {days} over invoice lines with a positive amount paid in the period. Lines with no
-- FX rate (or, for agreed terms, no known terms) are left out and counted in `excluded`. Summed per
-- payment month first, then per period.
WITH paid AS (
    SELECT x.m{dims}, sum(x.amount_rep * x.{days}) AS weighted,
           sum(x.amount_rep) FILTER (WHERE x.{days} IS NOT NULL) AS amount,
           count(*) FILTER (WHERE x.amount_rep IS NULL OR x.{days} IS NULL) AS excluded
    FROM paid_lines x
    GROUP BY ALL
)
SELECT b.period{dims},
       sum(x.weighted) / nullif(sum(x.amount), 0) AS value,
       coalesce(sum(x.excluded), 0) AS excluded
FROM buckets b
LEFT JOIN paid x ON x.m = b.m
GROUP BY ALL
