-- Committed spend of the span: PO lines by order date and invoices that carry no PO.
SELECT 'PO line' AS source, po_id AS document, po_line AS line, supplier_id, category, cost_center,
       order_date AS date, value_rep AS committed
FROM po_lines WHERE m IN (SELECT m FROM buckets)
UNION ALL
SELECT 'invoice without PO', invoice_id, invoice_line, supplier_id, category, cost_center, invoice_date, amount_rep
FROM invoice_lines WHERE NOT has_po AND m IN (SELECT m FROM buckets)
ORDER BY committed DESC NULLS LAST, document, line
