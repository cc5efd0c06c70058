-- The months each export the KPI views are made of holds rows in, with its rows and days with data
-- (kpi_definitions/running.py: a view covers a month when each of its declared sources does; weak_data.py:
-- how well a base month is covered), as kept at load (sql/fact_months.sql).
SELECT source, m, lines, days FROM fact_months
