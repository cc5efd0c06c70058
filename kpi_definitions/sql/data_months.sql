-- The first and last month with data (orders, invoices, stock or consumption), as month integers.
SELECT min(m) AS first_month, max(m) AS last_month FROM (
    SELECT @month_ix(invoice_date) AS m FROM invoices
    UNION ALL SELECT @month_ix(order_date) FROM purchase_orders
    UNION ALL SELECT @month_ix(snapshot_date) FROM inventory
    UNION ALL SELECT @month_ix(period) FROM consumption
)
