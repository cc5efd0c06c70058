-- The months the invoice and PO exports hold rows in, with their rows and days with data (running periods and
-- the weak-data norm read them: sql/source_months.sql). Invoice months are re-counted for the months a load of
-- invoices changed ({where}), PO months with the other facts.
SELECT 'invoices' AS source, m, count(*) AS lines, count(DISTINCT invoice_date) AS days
FROM fact_invoices
WHERE m IS NOT NULL AND ({where})
GROUP BY m
