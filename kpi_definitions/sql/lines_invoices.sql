-- Invoice lines of the span (actual spend), with whether they carry a PO.
SELECT invoice_id, invoice_line, supplier_id, po_id, po_line, item_id, category, cost_center, invoice_date,
       paid_date, quantity, amount, currency, amount_rep AS spend, has_po
FROM invoice_lines WHERE m IN (SELECT m FROM buckets)
ORDER BY spend DESC NULLS LAST, invoice_id, invoice_line
