-- Data-quality findings across files: references that do not resolve and amounts with no FX rate.
-- Recomputed in full after every load, inside the load's transaction. $1 = reporting currency.
-- Exports arrive in any order: while an export that others refer to has no rows at all, its unknown
-- references are one finding ("none loaded yet"), not one per subject (8M invoice lines loaded before
-- the purchase orders would otherwise list millions of POs).
DELETE FROM dq_findings;
INSERT INTO dq_findings
WITH loaded AS (
    SELECT 'suppliers' AS target, EXISTS (FROM suppliers) AS any_rows
    UNION ALL SELECT 'contracts', EXISTS (FROM contracts)
    UNION ALL SELECT 'purchase_orders', EXISTS (FROM purchase_orders)
), unknown AS (
    SELECT 'invoices' AS export_type, 'unknown supplier' AS rule, 'suppliers' AS target, i.supplier_id AS subject,
           'invoice lines name a supplier_id missing from suppliers' AS detail
    FROM invoices i ANTI JOIN suppliers s USING (supplier_id)
    UNION ALL
    SELECT 'purchase_orders', 'unknown supplier', 'suppliers', p.supplier_id,
           'PO lines name a supplier_id missing from suppliers'
    FROM purchase_orders p ANTI JOIN suppliers s USING (supplier_id)
    UNION ALL
    SELECT 'contracts', 'unknown supplier', 'suppliers', c.supplier_id,
           'contracts name a supplier_id missing from suppliers'
    FROM contracts c ANTI JOIN suppliers s USING (supplier_id)
    UNION ALL
    SELECT 'purchase_orders', 'unknown contract', 'contracts', p.contract_id,
           'PO lines name a contract_id missing from contracts'
    FROM purchase_orders p ANTI JOIN contracts c USING (contract_id) WHERE p.contract_id IS NOT NULL
    UNION ALL
    SELECT 'invoices', 'unknown PO line', 'purchase_orders', i.po_id,
           'invoice lines name a po_id/po_line missing from purchase_orders'
    FROM invoices i ANTI JOIN purchase_orders p USING (po_id, po_line) WHERE i.po_id IS NOT NULL
)
SELECT u.export_type, u.rule,
       CASE WHEN l.any_rows THEN u.subject ELSE '(no ' || u.target || ' loaded)' END,
       count(*),
       CASE WHEN l.any_rows THEN u.detail
            ELSE 'no ' || u.target || ' export is loaded yet: load it to check these references' END,
       now()
FROM unknown u JOIN loaded l USING (target)
GROUP BY ALL
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
