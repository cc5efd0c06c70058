-- The consumption facts (sql/fact_consumption.sql) rolled up over the items: month × category × location, as
-- sql/fact_stock_rollup.sql. {where}: the months to build.
SELECT m, CAST(NULL AS VARCHAR) AS item_id, location, category,
       sum(value_rep) AS value_rep, sum(unconverted)::BIGINT AS unconverted
FROM fact_consumption
WHERE {where}
GROUP BY m, location, category
