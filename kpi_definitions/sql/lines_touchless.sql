-- The invoices of the span in {scope}, with whether each was touched ({touched}) and by whom last.
SELECT x.document_id AS invoice_id, x.supplier_id, x.category, x.cost_center, x.amount_rep AS amount, x.po_invoice,
       x.events, NOT x.{touched} AS touchless, x.touched_ap, x.touched_any, x.last_event, x.last_role
FROM invoice_flow x
WHERE x.{scope} AND x.m IN (SELECT m FROM buckets)
ORDER BY touchless, amount DESC NULLS LAST, invoice_id
