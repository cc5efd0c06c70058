-- The months each export the KPI views are made of holds rows in, with its rows and days with data
-- (kpi_definitions/running.py: a view covers a month when each of its declared sources does; weak_data.py:
-- how well a base month is covered). Invoice and PO months are kept at load (sql/fact_months.sql); stock and
-- consumption are small and counted here.
SELECT source, m, lines, days FROM fact_months
UNION ALL
SELECT 'inventory', @month_ix(snapshot_date), count(*), count(DISTINCT snapshot_date)
FROM inventory GROUP BY ALL
UNION ALL
SELECT 'consumption', @month_ix(period), count(*), 1
FROM consumption GROUP BY ALL
