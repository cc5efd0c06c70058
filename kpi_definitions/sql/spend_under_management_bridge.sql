-- From spend on a valid contract (procurement) to spend on a PO (finance), as shares of actual spend, per period
-- of `buckets` and slice ({dims}): what carries a PO but no valid contract, by why.
SELECT b.period{dims:x},
       coalesce(sum(x.amount_rep) FILTER (WHERE x.has_po AND x.po_found AND x.po_contract_id IS NULL), 0)
           / nullif(sum(x.amount_rep), 0) AS po_without_contract,
       coalesce(sum(x.amount_rep) FILTER (WHERE x.po_found AND x.po_contract_id IS NOT NULL AND NOT x.on_contract), 0)
           / nullif(sum(x.amount_rep), 0) AS contract_not_valid,
       coalesce(sum(x.amount_rep) FILTER (WHERE x.has_po AND NOT x.po_found), 0)
           / nullif(sum(x.amount_rep), 0) AS po_line_not_found
FROM invoice_po x
JOIN buckets b ON b.m = x.m
GROUP BY b.period{dims:x}
