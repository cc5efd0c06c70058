-- The first and last month with data (orders, invoices, stock or consumption), as month integers.
SELECT min(m) AS first_month, max(m) AS last_month FROM (
    SELECT year(invoice_date) * 12 + month(invoice_date) - 1 AS m FROM invoices
    UNION ALL SELECT year(order_date) * 12 + month(order_date) - 1 FROM purchase_orders
    UNION ALL SELECT year(snapshot_date) * 12 + month(snapshot_date) - 1 FROM inventory
    UNION ALL SELECT year(period) * 12 + month(period) - 1 FROM consumption
)
