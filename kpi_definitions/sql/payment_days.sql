-- Amount-weighted {days} over invoice lines with a positive amount paid in the period. Lines with no
-- FX rate (or, for agreed terms, no known terms) are left out and counted in `excluded`.
SELECT b.period{dims},
       sum(x.amount_rep * x.{days}) / nullif(sum(x.amount_rep) FILTER (WHERE x.{days} IS NOT NULL), 0) AS value,
       count(x.m) FILTER (WHERE x.amount_rep IS NULL OR x.{days} IS NULL) AS excluded
FROM buckets b
LEFT JOIN paid_lines x ON x.m = b.m
GROUP BY ALL
