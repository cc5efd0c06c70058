-- The invoices of the span the two first-time-match views count differently, and why.
SELECT x.document_id AS invoice_id, x.supplier_id, x.category, x.cost_center, x.amount_rep AS amount,
       CASE WHEN x.received_ever THEN 'received after the invoice date' ELSE 'not received yet' END AS why,
       x.three_way AS finance_matched, x.two_way AS procurement_matched
FROM invoice_flow x
WHERE x.m IN (SELECT m FROM buckets) AND x.match_scope AND x.two_way AND NOT x.three_way
ORDER BY amount DESC NULLS LAST, invoice_id
