-- Year-over-year drop in actual spend: spend twelve months earlier − spend now. Null when the slice has
-- no invoice line at all in the earlier span, and when either span has lines but none of them converts to
-- the reporting currency (no fx rate): that spend is not computable, so neither is the value (never 0).
-- Partly converted: the converted lines' value, the others counted in `excluded`.
-- Spend is read per month and slice as kept at load (sql/fact_invoice_months.sql); each period then takes its
-- own months and the same months a year earlier.
WITH spend AS (
    SELECT x.m{dims}, sum(x.spend) AS spend, sum(x.lines) AS lines, sum(x.unconverted) AS excluded
    FROM invoice_months x
    GROUP BY ALL
),
months AS (
    SELECT m, period, false AS earlier FROM buckets
    UNION ALL
    SELECT m - 12, period, true FROM buckets
),
lines AS (
    SELECT b.period, b.earlier, x.spend, x.lines, x.excluded{dims} FROM months b LEFT JOIN spend x ON x.m = b.m
)
SELECT period{dims},
       CASE WHEN sum(lines) FILTER (WHERE earlier) > 0 AND sum(spend) FILTER (WHERE earlier) IS NOT NULL
                 AND NOT (coalesce(sum(lines) FILTER (WHERE NOT earlier), 0) > 0
                          AND sum(spend) FILTER (WHERE NOT earlier) IS NULL) THEN
           coalesce(sum(spend) FILTER (WHERE earlier), 0) - coalesce(sum(spend) FILTER (WHERE NOT earlier), 0)
       END AS value,
       coalesce(sum(excluded), 0) AS excluded
FROM lines
GROUP BY ALL
