-- PO lines that count (fact_po) summed per order month and slice (supplier, category, cost center, savings type)
-- when the facts are built: what savings (procurement) and committed spend sum.
SELECT m, supplier_id, category, cost_center, savings_type,
       count(*) AS lines,
       count(*) FILTER (WHERE value_rep IS NULL) AS unconverted,
       sum(value_rep) AS value,
       count(*) FILTER (WHERE on_contract) AS contract_lines,
       count(*) FILTER (WHERE on_contract AND savings_rep IS NULL) AS savings_unconverted,
       sum(savings_rep) AS savings
FROM fact_po
GROUP BY m, supplier_id, category, cost_center, savings_type
