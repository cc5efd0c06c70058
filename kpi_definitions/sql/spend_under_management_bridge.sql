-- From spend on a valid contract (procurement) to spend on a PO (finance), as shares of actual spend, per period
-- of `buckets` and slice ({dims}): what carries a PO but no valid contract, by why (sums kept at load:
-- sql/fact_invoice_months.sql).
SELECT b.period{dims:x},
       @div(coalesce(sum(x.no_contract_spend), 0), sum(x.spend)) AS po_without_contract,
       @div(coalesce(sum(x.invalid_contract_spend), 0), sum(x.spend)) AS contract_not_valid,
       @div(coalesce(sum(x.unknown_po_spend), 0), sum(x.spend)) AS po_line_not_found
FROM invoice_months x
JOIN buckets b ON b.m = x.m
GROUP BY b.period{dims:x}
