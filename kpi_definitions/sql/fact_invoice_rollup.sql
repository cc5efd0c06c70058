-- The invoice lines' monthly sums (sql/fact_invoice_months.sql) rolled up over the suppliers: month × category ×
-- cost center, a few hundred rows. The engine reads them instead for a request that neither splits nor filters by
-- supplier (kpi_definitions/engine.py, ROLLUPS); supplier_id is NULL, so they have the same columns.
-- {where}: the months to build.
SELECT m, CAST(NULL AS VARCHAR) AS supplier_id, category, cost_center,
       sum(lines)::BIGINT AS lines, sum(unconverted)::BIGINT AS unconverted, sum(spend) AS spend,
       sum(po_spend) AS po_spend, sum(contract_spend) AS contract_spend, sum(nonpo_lines)::BIGINT AS nonpo_lines,
       sum(nonpo_unconverted)::BIGINT AS nonpo_unconverted, sum(nonpo_spend) AS nonpo_spend,
       sum(no_contract_spend) AS no_contract_spend, sum(invalid_contract_spend) AS invalid_contract_spend,
       sum(unknown_po_spend) AS unknown_po_spend, sum(found_lines)::BIGINT AS found_lines,
       sum(found_unconverted)::BIGINT AS found_unconverted, sum(found_spend) AS found_spend,
       sum(unfound_spend) AS unfound_spend
FROM fact_invoice_months
WHERE {where}
GROUP BY m, category, cost_center
