-- Year-over-year drop in actual spend: spend twelve months earlier − spend now. Null when the slice has
-- no invoice line at all in the earlier span.
WITH lines AS (
    SELECT b.period, false AS earlier, x.* FROM buckets b LEFT JOIN invoice_lines x ON x.m = b.m
    UNION ALL
    SELECT b.period, true, x.* FROM buckets b JOIN invoice_lines x ON x.m = b.m - 12
)
SELECT period{dims},
       CASE WHEN count(m) FILTER (WHERE earlier) > 0 THEN
           coalesce(sum(amount_rep) FILTER (WHERE earlier), 0) - coalesce(sum(amount_rep) FILTER (WHERE NOT earlier), 0)
       END AS value,
       count(m) FILTER (WHERE amount_rep IS NULL) AS excluded
FROM lines
GROUP BY ALL
