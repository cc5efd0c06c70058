-- The facts every KPI reads, rebuilt in the transaction of each load that changes their sources:
-- invoice and PO lines joined once to the PO line, contract, supplier and FX rate they refer to, so a
-- KPI query is a scan and an aggregate, never a join over millions of lines. Sorted by month, so a
-- query for a few months skips the rest. Amounts are converted to the reporting currency ($ccy) here,
-- once, with the rate of the month of the row's own date (NULL without a rate); facts_meta records
-- which currency that was.
CREATE OR REPLACE TABLE facts_meta AS SELECT $ccy::VARCHAR AS reporting_currency, now() AS built_at;

CREATE OR REPLACE TABLE fact_invoices AS
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
FROM invoices i
LEFT JOIN fx r ON r.currency = i.currency AND r.m = year(i.invoice_date) * 12 + month(i.invoice_date) - 1
LEFT JOIN purchase_orders p ON p.po_id = i.po_id AND p.po_line = i.po_line AND p.status <> 'cancelled'
LEFT JOIN contracts c ON c.contract_id = p.contract_id
LEFT JOIN suppliers s ON s.supplier_id = i.supplier_id
ORDER BY m;

-- PO lines that count (never cancelled ones), with the contract they name when it is a contract of the
-- same supplier valid on the order date.
CREATE OR REPLACE TABLE fact_po AS
WITH fx AS (SELECT currency, year(period) * 12 + month(period) - 1 AS m, rate_to_reporting AS rate FROM fx_rates)
SELECT p.*, year(p.order_date) * 12 + month(p.order_date) - 1 AS m,
       p.quantity * p.unit_price * CASE WHEN p.currency = $ccy THEN 1 ELSE rp.rate END AS value_rep,
       c.contract_id IS NOT NULL AS on_contract,
       c.savings_type,
       -- (baseline − paid unit price) × quantity, both prices at the order month's rate of their currency
       CASE WHEN c.contract_id IS NOT NULL THEN
           (c.baseline_unit_price * CASE WHEN c.currency = $ccy THEN 1 ELSE rc.rate END
            - p.unit_price * CASE WHEN p.currency = $ccy THEN 1 ELSE rp.rate END) * p.quantity
       END AS savings_rep
FROM purchase_orders p
LEFT JOIN contracts c
    ON c.contract_id = p.contract_id AND c.supplier_id = p.supplier_id
   AND p.order_date BETWEEN c.start_date AND c.end_date
LEFT JOIN fx rp ON rp.currency = p.currency AND rp.m = year(p.order_date) * 12 + month(p.order_date) - 1
LEFT JOIN fx rc ON rc.currency = c.currency AND rc.m = year(p.order_date) * 12 + month(p.order_date) - 1
WHERE p.status <> 'cancelled'
ORDER BY m;
