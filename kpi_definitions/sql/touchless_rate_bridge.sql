-- From procurement's touchless rate (PO invoices, no person acted) to finance's (every invoice, no one in accounts
-- payable acted), as shares: first the rule on PO invoices (those only approvers outside accounts payable touched
-- become touchless), then the scope (the invoices without a PO join the count).
WITH x AS (SELECT * FROM invoice_flow WHERE m IN (SELECT m FROM buckets) AND events > 0),
n AS (
    SELECT count(*) FILTER (WHERE po_invoice) AS po, count(*) FILTER (WHERE po_invoice AND NOT touched_any) AS po_any,
           count(*) FILTER (WHERE po_invoice AND NOT touched_ap) AS po_ap, count(*) AS every,
           count(*) FILTER (WHERE NOT touched_ap) AS every_ap
    FROM x
)
SELECT (po_ap - po_any) / nullif(po, 0) AS approvals_outside_ap,
       every_ap / nullif(every, 0) - po_ap / nullif(po, 0) AS non_po_invoices
FROM n
