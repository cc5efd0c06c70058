-- PO lines on a valid contract summed per order month, slice and savings type when the facts are built: what
-- negotiated savings (procurement) sum (sql/savings_procurement.sql). `savings` is NULL where none of the lines
-- converts to the reporting currency, `savings_unconverted` counts those that do not.
SELECT m, supplier_id, category, cost_center, savings_type,
       count(*) AS contract_lines,
       count(*) FILTER (WHERE savings_rep IS NULL) AS savings_unconverted,
       sum(savings_rep) AS savings
FROM fact_po
WHERE on_contract
GROUP BY m, supplier_id, category, cost_center, savings_type
