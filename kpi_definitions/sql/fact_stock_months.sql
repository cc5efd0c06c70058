-- The months the stock and consumption exports hold, with their rows and days with data (fact_months, as
-- sql/fact_months.sql for invoices). {where}: the months to count.
SELECT 'inventory' AS source, m, count(*) AS lines, count(DISTINCT snapshot_date) AS days
FROM fact_stock WHERE {where} GROUP BY m
