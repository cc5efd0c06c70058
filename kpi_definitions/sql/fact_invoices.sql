-- Invoice lines with what the KPIs need from the PO line, contract, supplier and FX rate they refer to
-- (see facts.sql). The lines in FROM are the `invoices` view for a rebuild, or a load's new lines, which
-- are stored with their facts as they are added (kpi_definitions/facts.py).
WITH fx AS (SELECT currency, year(period) * 12 + month(period) - 1 AS m, rate_to_reporting AS rate FROM fx_rates)
SELECT i.*, year(i.invoice_date) * 12 + month(i.invoice_date) - 1 AS m,
       year(i.paid_date) * 12 + month(i.paid_date) - 1 AS paid_m,
       i.po_id IS NOT NULL AS has_po,
       i.amount * CASE WHEN i.currency = $ccy THEN 1 ELSE r.rate END AS amount_rep,
       p.po_id IS NOT NULL AS po_found, p.contract_id AS po_contract_id,
       year(p.order_date) * 12 + month(p.order_date) - 1 AS po_m,
       -- on contract: the PO line names a contract of the same supplier, valid on its order date
       coalesce(c.contract_id IS NOT NULL AND c.supplier_id = p.supplier_id
                AND p.order_date BETWEEN c.start_date AND c.end_date, false) AS on_contract,
       -- agreed terms: the contract's when the PO line names an existing contract, else the supplier's
       coalesce(c.payment_terms_days, s.payment_terms_days) AS agreed_terms,
       i.paid_date - i.invoice_date AS days_taken
FROM {invoices} i
LEFT JOIN fx r ON r.currency = i.currency AND r.m = year(i.invoice_date) * 12 + month(i.invoice_date) - 1
LEFT JOIN purchase_orders p ON p.po_id = i.po_id AND p.po_line = i.po_line AND p.status <> 'cancelled'
LEFT JOIN contracts c ON c.contract_id = p.contract_id
LEFT JOIN suppliers s ON s.supplier_id = i.supplier_id
