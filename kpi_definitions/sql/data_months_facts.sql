-- The first and last month with data (orders, invoices, stock or consumption), as month integers, as kept at
-- load (sql/fact_months.sql; sql/data_months.sql reads the exports themselves).
SELECT min(m) AS first_month, max(m) AS last_month FROM fact_months
