-- The facts every KPI reads, rebuilt in the transaction of each load that changes their sources:
-- invoice and PO lines joined once to the PO line, contract, supplier and FX rate they refer to, so a
-- KPI query is a scan and an aggregate, never a join over millions of lines. Sorted by month, so a
-- query for a few months skips the rest. Amounts stay in their own currency with the month's rate
-- alongside: the reporting currency is applied at query time.
CREATE OR REPLACE TABLE fact_invoices AS
WITH fx AS (SELECT currency, year(period) * 12 + month(period) - 1 AS m, rate_to_reporting AS rate FROM fx_rates)
SELECT i.*, year(i.invoice_date) * 12 + month(i.invoice_date) - 1 AS m,
       year(i.paid_date) * 12 + month(i.paid_date) - 1 AS paid_m,
       i.po_id IS NOT NULL AS has_po,
       r.rate,
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
-- same supplier valid on the order date; both prices carry the order month's rate of their currency.
CREATE OR REPLACE TABLE fact_po AS
WITH fx AS (SELECT currency, year(period) * 12 + month(period) - 1 AS m, rate_to_reporting AS rate FROM fx_rates)
SELECT p.*, year(p.order_date) * 12 + month(p.order_date) - 1 AS m,
       rp.rate,
       c.contract_id IS NOT NULL AS on_contract,
       c.savings_type,
       c.baseline_unit_price,
       c.currency AS contract_currency,
       rc.rate AS contract_rate
FROM purchase_orders p
LEFT JOIN contracts c
    ON c.contract_id = p.contract_id AND c.supplier_id = p.supplier_id
   AND p.order_date BETWEEN c.start_date AND c.end_date
LEFT JOIN fx rp ON rp.currency = p.currency AND rp.m = year(p.order_date) * 12 + month(p.order_date) - 1
LEFT JOIN fx rc ON rc.currency = c.currency AND rc.m = year(p.order_date) * 12 + month(p.order_date) - 1
WHERE p.status <> 'cancelled'
ORDER BY m;
