-- The invoices of the span the two touchless views count differently, and why.
SELECT x.document_id AS invoice_id, x.supplier_id, x.category, x.cost_center, x.amount_rep AS amount,
       CASE WHEN NOT x.po_invoice THEN 'no PO: finance counts it'
            ELSE 'approved outside AP: touchless for finance only' END AS why,
       NOT x.touched_ap AS finance_touchless,
       CASE WHEN x.po_invoice THEN NOT x.touched_any END AS procurement_touchless
FROM invoice_flow x
WHERE x.m IN (SELECT m FROM buckets) AND x.events > 0
  AND (NOT x.po_invoice OR (x.touched_any AND NOT x.touched_ap))
ORDER BY amount DESC NULLS LAST, invoice_id
