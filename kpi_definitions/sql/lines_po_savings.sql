-- PO lines behind negotiated savings: ordered in the span under a valid contract of the same supplier.
SELECT po_id, po_line, supplier_id, contract_id, savings_type, item_id, category, cost_center, order_date,
       quantity, unit_price, currency, status, value_rep AS po_value, savings_rep AS savings
FROM po_lines WHERE on_contract AND m IN (SELECT m FROM buckets)
ORDER BY savings_rep DESC NULLS LAST, po_id, po_line
