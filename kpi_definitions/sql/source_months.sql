-- The months each export the KPI views are made of holds rows in, with its rows and days with data
-- (kpi_definitions/running.py: a view covers a month when each of its declared sources does; weak_data.py:
-- how well a base month is covered).
SELECT 'invoices' AS source, m, count(*) AS lines, count(DISTINCT invoice_date) AS days
FROM fact_invoices GROUP BY m
UNION ALL
SELECT 'purchase_orders', month_ix(order_date), count(*), count(DISTINCT order_date)
FROM purchase_orders GROUP BY ALL
UNION ALL
SELECT 'inventory', month_ix(snapshot_date), count(*), count(DISTINCT snapshot_date)
FROM inventory GROUP BY ALL
UNION ALL
SELECT 'consumption', month_ix(period), count(*), 1
FROM consumption GROUP BY ALL
