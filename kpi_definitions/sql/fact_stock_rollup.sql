-- The stock facts (sql/fact_stock.sql) rolled up over the items: snapshot × category × location, what inventory
-- days and its bridge read for a request that neither splits nor filters by item (kpi_definitions/engine.py,
-- ROLLUPS); item_id is NULL. {where}: the months to build.
SELECT snapshot_date, m, CAST(NULL AS VARCHAR) AS item_id, location, category,
       sum(stock_rep) AS stock_rep, sum(excess_rep) AS excess_rep, sum(safety_rep) AS safety_rep,
       sum(unconverted)::BIGINT AS unconverted
FROM fact_stock
WHERE {where}
GROUP BY snapshot_date, m, location, category
