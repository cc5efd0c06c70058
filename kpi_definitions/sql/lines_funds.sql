-- The lines holding the budget in the span, dated by {month}, with the bucket each lands in: requisition lines
-- and the open and received part of PO lines (sql/fact_flow.sql), then invoice lines (actuals).
SELECT f.bucket, f.source, f.document, f.line, f.supplier_id, f.category, f.cost_center, f.dated, f.amount
FROM fact_funds_lines f
WHERE f.{month} IN (SELECT m FROM buckets)
  AND @picked($category, f.category)
  AND @picked($cost_center, f.cost_center)
UNION ALL
SELECT CASE WHEN i.po_found THEN 'invoiced_on_po' ELSE 'non_po_invoices' END, 'invoice line', i.invoice_id,
       i.invoice_line, i.supplier_id, i.category, i.cost_center, i.invoice_date, i.amount_rep
FROM invoice_lines i
WHERE i.m IN (SELECT m FROM buckets)
ORDER BY amount DESC NULLS LAST, document, line
