-- The PO invoices of the span in scope, with whether each matched the first time ({matched}) and both readings.
SELECT x.document_id AS invoice_id, x.supplier_id, x.category, x.cost_center, x.amount_rep AS amount,
       x.{matched} AS matched, x.two_way, x.three_way, x.received_ever
FROM invoice_flow x
WHERE x.match_scope AND x.m IN (SELECT m FROM buckets)
ORDER BY matched, amount DESC NULLS LAST, invoice_id
