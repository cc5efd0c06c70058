-- Data-quality findings across files: references that do not resolve and amounts with no FX rate.
-- Recomputed in full after every load, inside the load's transaction. $1 = reporting currency.
DELETE FROM dq_findings;
INSERT INTO dq_findings
SELECT 'invoices', 'unknown supplier', i.supplier_id, count(*), 'invoice lines name a supplier_id missing from suppliers', now()
FROM invoices i ANTI JOIN suppliers s USING (supplier_id) GROUP BY i.supplier_id
UNION ALL
SELECT 'purchase_orders', 'unknown supplier', p.supplier_id, count(*), 'PO lines name a supplier_id missing from suppliers', now()
FROM purchase_orders p ANTI JOIN suppliers s USING (supplier_id) GROUP BY p.supplier_id
UNION ALL
SELECT 'contracts', 'unknown supplier', c.supplier_id, count(*), 'contracts name a supplier_id missing from suppliers', now()
FROM contracts c ANTI JOIN suppliers s USING (supplier_id) GROUP BY c.supplier_id
UNION ALL
SELECT 'purchase_orders', 'unknown contract', p.contract_id, count(*), 'PO lines name a contract_id missing from contracts', now()
FROM purchase_orders p ANTI JOIN contracts c USING (contract_id) WHERE p.contract_id IS NOT NULL GROUP BY p.contract_id
UNION ALL
SELECT 'invoices', 'unknown PO line', i.po_id, count(*), 'invoice lines name a po_id/po_line missing from purchase_orders', now()
FROM invoices i ANTI JOIN purchase_orders p USING (po_id, po_line) WHERE i.po_id IS NOT NULL GROUP BY i.po_id
UNION ALL
SELECT t, 'missing FX rate', currency || ' ' || strftime(month, '%Y-%m'), count(*),
       'amounts in this currency and month have no fx_rates row', now()
FROM (
    SELECT 'invoices' AS t, currency, date_trunc('month', invoice_date) AS month FROM invoices
    UNION ALL SELECT 'purchase_orders', currency, date_trunc('month', order_date) FROM purchase_orders
    UNION ALL SELECT 'budgets', currency, fiscal_period FROM budgets
    UNION ALL SELECT 'inventory', currency, date_trunc('month', snapshot_date) FROM inventory
    UNION ALL SELECT 'consumption', currency, period FROM consumption
) x
WHERE currency <> $1
  AND NOT EXISTS (SELECT 1 FROM fx_rates f WHERE f.currency = x.currency AND f.period = x.month)
GROUP BY t, currency, month;
