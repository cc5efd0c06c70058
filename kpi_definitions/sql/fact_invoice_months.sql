-- Invoice lines summed per month and slice (supplier, category, cost center) when they are loaded, so the views of
-- spend read a few rows per month and slice, never the lines: what savings (finance), budget variance (finance
-- and non-PO spend for procurement), spend under management and its bridge sum (kpi_definitions/facts.py keeps
-- them current inside every load's transaction: a load of invoices re-sums the months it changed, a load of any
-- other source of the facts rebuilds them). A sum is NULL when none of its lines converts to the reporting
-- currency, as the sum over the lines is. {where}: the months to build (`true` for all).
SELECT m, supplier_id, category, cost_center,
       count(*) AS lines,
       count(*) FILTER (WHERE amount_rep IS NULL) AS unconverted,
       sum(amount_rep) AS spend,
       sum(amount_rep) FILTER (WHERE has_po) AS po_spend,
       sum(amount_rep) FILTER (WHERE on_contract) AS contract_spend,
       count(*) FILTER (WHERE NOT has_po) AS nonpo_lines,
       count(*) FILTER (WHERE NOT has_po AND amount_rep IS NULL) AS nonpo_unconverted,
       sum(amount_rep) FILTER (WHERE NOT has_po) AS nonpo_spend,
       -- spend under management's bridge: on a PO without a contract, on a contract not valid, on no known PO line
       sum(amount_rep) FILTER (WHERE has_po AND po_found AND po_contract_id IS NULL) AS no_contract_spend,
       sum(amount_rep) FILTER (WHERE po_found AND po_contract_id IS NOT NULL AND NOT on_contract) AS invalid_contract_spend,
       sum(amount_rep) FILTER (WHERE has_po AND NOT po_found) AS unknown_po_spend,
       -- funds available's actuals (sql/base.sql funds_use): invoiced on a PO line that counts, or not
       count(*) FILTER (WHERE po_found) AS found_lines,
       count(*) FILTER (WHERE po_found AND amount_rep IS NULL) AS found_unconverted,
       sum(amount_rep) FILTER (WHERE po_found) AS found_spend,
       sum(amount_rep) FILTER (WHERE NOT po_found) AS unfound_spend
FROM fact_invoices
WHERE m IS NOT NULL AND ({where})
GROUP BY m, supplier_id, category, cost_center
