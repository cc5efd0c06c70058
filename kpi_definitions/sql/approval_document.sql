-- One document's lines as its export has them: a requisition's, an order's or an invoice's.
SELECT 'requisition' AS document_type, req_id AS document_id, req_line AS line, category, cost_center, supplier_id,
       amount, currency, status, po_id AS refers_to
FROM requisitions WHERE $document_type = 'requisition' AND req_id = $document_id
UNION ALL
SELECT 'purchase_order', po_id, po_line, category, cost_center, supplier_id, quantity * unit_price, currency, status,
       contract_id
FROM purchase_orders WHERE $document_type = 'purchase_order' AND po_id = $document_id
UNION ALL
SELECT 'invoice', invoice_id, invoice_line, category, cost_center, supplier_id, amount, currency,
       CASE WHEN paid_date IS NULL THEN 'unpaid' ELSE 'paid ' || strftime(paid_date, '%Y-%m-%d') END, po_id
FROM invoices WHERE $document_type = 'invoice' AND invoice_id = $document_id
ORDER BY line
