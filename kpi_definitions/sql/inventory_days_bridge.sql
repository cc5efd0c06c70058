-- From excess-stock days (procurement) to all-stock days (finance): the stock held as safety stock,
-- min(on hand, safety stock) × unit cost, in days of consumption.
WITH per_snapshot AS (
    SELECT snapshot_date, sum(safety_rep) AS safety FROM inventory_lines
    WHERE m IN (SELECT m FROM buckets) GROUP BY snapshot_date
)
SELECT (SELECT avg(safety) FROM per_snapshot)
       / ((SELECT sum(value_rep) FROM consumption_lines WHERE m IN (SELECT m FROM buckets))
          / (SELECT sum(days) FROM period_days)) AS safety_stock
