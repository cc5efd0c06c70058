-- Negotiated savings of the initiatives at stage negotiated or later, prorated per day over the days of the
-- period in their savings window (at most its first 365 days): (baseline − new price) × forecast quantity ×
-- days counted ÷ days of the window, at the rate of the window's first month (sql/base.sql, ledger_steps).
-- 0 without such initiatives; null when there are some but none converts to the reporting currency.
SELECT b.period{dims},
       CASE WHEN count(s.m) = 0 OR sum(s.negotiated) IS NOT NULL THEN coalesce(sum(s.negotiated), 0) END AS value,
       count(s.m) FILTER (WHERE s.negotiated IS NULL) AS excluded
FROM buckets b
LEFT JOIN ledger_steps s ON s.m = b.m
GROUP BY ALL
