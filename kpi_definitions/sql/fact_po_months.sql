-- PO lines that count (fact_po) summed per order month and slice (supplier, category, cost center) when the facts
-- are built: what committed spend sums (sql/base.sql, committed_spend).
SELECT m, supplier_id, category, cost_center,
       count(*) AS lines,
       count(*) FILTER (WHERE value_rep IS NULL) AS unconverted,
       sum(value_rep) AS value
FROM fact_po
GROUP BY m, supplier_id, category, cost_center
