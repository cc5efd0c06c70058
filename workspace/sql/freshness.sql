-- Per export type: the latest successful load and the latest date the data itself reaches.
WITH loads AS (
    SELECT export_type, max(finished_at) AS last_load, sum(rows_loaded) AS rows_loaded_total
    FROM load_log WHERE outcome IN ('loaded', 'partial') GROUP BY export_type
), reach AS (
    SELECT 'invoices' AS export_type, max(invoice_date) AS data_until, count(*) AS rows FROM invoices
    UNION ALL SELECT 'purchase_orders', max(order_date), count(*) FROM purchase_orders
    UNION ALL SELECT 'inventory', max(snapshot_date), count(*) FROM inventory
    UNION ALL SELECT 'consumption', max(period), count(*) FROM consumption
    UNION ALL SELECT 'budgets', max(fiscal_period), count(*) FROM budgets
    UNION ALL SELECT 'fx_rates', max(period), count(*) FROM fx_rates
    UNION ALL SELECT 'contracts', max(end_date), count(*) FROM contracts
    UNION ALL SELECT 'suppliers', NULL, count(*) FROM suppliers
    UNION ALL SELECT 'price_indices', max(period), count(*) FROM price_indices
    UNION ALL SELECT 'category_index', NULL, count(*) FROM category_index
)
SELECT r.export_type, r.rows AS rows_in_database, strftime(r.data_until::DATE, '%Y-%m-%d') AS data_until, l.last_load,
       date_diff('day', l.last_load, now()::TIMESTAMP) AS days_since_load
FROM reach r LEFT JOIN loads l USING (export_type)
ORDER BY r.export_type
