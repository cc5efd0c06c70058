-- Invoice lines paid in the span (positive amounts): days taken and the terms agreed for them.
SELECT invoice_id, invoice_line, supplier_id, po_id, po_line, category, cost_center, invoice_date, paid_date,
       amount_rep AS weight, days_taken, agreed_terms, days_taken - agreed_terms AS days_vs_terms
FROM paid_lines WHERE m IN (SELECT m FROM buckets)
ORDER BY weight DESC NULLS LAST, invoice_id, invoice_line
