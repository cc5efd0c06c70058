-- Invoice lines with what the KPIs need from the PO line, contract, supplier and FX rate they refer to
-- (see facts.sql). The lines in FROM are the `invoices` view for a rebuild, or a load's new lines, which
-- are stored with their facts as they are added (kpi_definitions/facts.py).
SELECT i.*, @month_ix(i.invoice_date) AS m,
       @month_ix(i.paid_date) AS paid_m,
       i.po_id IS NOT NULL AS has_po,
       i.amount * @rep_rate(i.currency, r.rate, $ccy) AS amount_rep,
       p.po_id IS NOT NULL AS po_found, p.contract_id AS po_contract_id,
       @month_ix(p.order_date) AS po_m,
       -- on contract: the PO line names a contract of the same supplier, valid on its order date
       coalesce(c.contract_id IS NOT NULL AND c.supplier_id = p.supplier_id
                AND p.order_date BETWEEN c.start_date AND c.end_date, false) AS on_contract,
       -- agreed terms: the contract's when the PO line names an existing contract, else the supplier's
       coalesce(c.payment_terms_days, s.payment_terms_days) AS agreed_terms,
       @days_between(i.invoice_date, i.paid_date) AS days_taken
FROM {invoices} i
LEFT JOIN @fx_monthly() r ON r.currency = i.currency AND r.m = @month_ix(i.invoice_date)
LEFT JOIN purchase_orders p ON p.po_id = i.po_id AND p.po_line = i.po_line AND p.status <> 'cancelled'
LEFT JOIN contracts c ON c.contract_id = p.contract_id
LEFT JOIN suppliers s ON s.supplier_id = i.supplier_id
