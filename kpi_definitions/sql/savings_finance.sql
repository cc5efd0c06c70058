-- Year-over-year drop in actual spend: spend twelve months earlier − spend now. Null when the slice has
-- no invoice line at all in the earlier span. Each period looks up its own months and the same months a
-- year earlier, in one pass over the invoice lines.
WITH months AS (
    SELECT m, period, false AS earlier FROM buckets
    UNION ALL
    SELECT m - 12, period, true FROM buckets
),
lines AS (
    SELECT b.period, b.earlier, x.m, x.amount_rep{dims} FROM months b LEFT JOIN invoice_lines x ON x.m = b.m
)
SELECT period{dims},
       CASE WHEN count(m) FILTER (WHERE earlier) > 0 THEN
           coalesce(sum(amount_rep) FILTER (WHERE earlier), 0) - coalesce(sum(amount_rep) FILTER (WHERE NOT earlier), 0)
       END AS value,
       count(m) FILTER (WHERE amount_rep IS NULL) AS excluded
FROM lines
GROUP BY ALL
