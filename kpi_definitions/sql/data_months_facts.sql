-- The first and last month with data (orders, invoices, stock or consumption), as month integers: invoice and
-- PO months as kept at load (sql/fact_months.sql; sql/data_months.sql reads the exports themselves).
SELECT min(m) AS first_month, max(m) AS last_month FROM (
    SELECT m FROM fact_months
    UNION ALL SELECT @month_ix(snapshot_date) FROM inventory
    UNION ALL SELECT @month_ix(period) FROM consumption
)
