-- Share of actual spend on invoice lines that are {managed}. Null when the period's spend is 0.
SELECT b.period{dims},
       coalesce(sum(x.amount_rep) FILTER (WHERE x.{managed}), 0) / nullif(sum(x.amount_rep), 0) AS value,
       count(x.m) FILTER (WHERE x.amount_rep IS NULL) AS excluded
FROM buckets b
LEFT JOIN {lines} x ON x.m = b.m
GROUP BY ALL
