-- From procurement's touchless rate (PO invoices, no person acted) to finance's (every invoice, no one in accounts
-- payable acted), as shares, per period of `buckets` and slice ({dims}): first the rule on PO invoices (those only
-- approvers outside accounts payable touched become touchless), then the scope (the invoices without a PO join).
WITH n AS (
    SELECT b.period{dims:x},
           count(*) FILTER (WHERE x.po_invoice) AS po,
           count(*) FILTER (WHERE x.po_invoice AND NOT x.touched_any) AS po_any,
           count(*) FILTER (WHERE x.po_invoice AND NOT x.touched_ap) AS po_ap,
           count(*) AS every, count(*) FILTER (WHERE NOT x.touched_ap) AS every_ap
    FROM invoice_flow x
    JOIN buckets b ON b.m = x.m
    WHERE x.events > 0
    GROUP BY b.period{dims:x}
)
SELECT period{dims}, @div(po_ap - po_any, po) AS approvals_outside_ap,
       @div(every_ap, every) - @div(po_ap, po) AS non_po_invoices
FROM n
