-- From spend on a valid contract (procurement) to spend on a PO (finance), as shares of actual spend:
-- what carries a PO but no valid contract, by why.
WITH x AS (SELECT * FROM invoice_po WHERE m IN (SELECT m FROM buckets)),
t AS (SELECT nullif(sum(amount_rep), 0) AS spend FROM x)
SELECT
    coalesce((SELECT sum(amount_rep) FROM x WHERE has_po AND po_found AND po_contract_id IS NULL), 0) / t.spend
        AS po_without_contract,
    coalesce((SELECT sum(amount_rep) FROM x WHERE po_found AND po_contract_id IS NOT NULL AND NOT on_contract), 0)
        / t.spend AS contract_not_valid,
    coalesce((SELECT sum(amount_rep) FROM x WHERE has_po AND NOT po_found), 0) / t.spend AS po_line_not_found
FROM t
