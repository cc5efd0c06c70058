-- Invoice lines of the span with the PO line and contract they name, and whether that contract is valid.
SELECT invoice_id, invoice_line, supplier_id, po_id, po_line, po_found, po_contract_id, on_contract, category,
       cost_center, invoice_date, amount, currency, amount_rep AS spend
FROM invoice_po WHERE m IN (SELECT m FROM buckets)
ORDER BY spend DESC NULLS LAST, invoice_id, invoice_line
