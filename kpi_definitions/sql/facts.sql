-- The facts every KPI reads, rebuilt in the transaction of each load that changes their sources:
-- invoice and PO lines joined once to the PO line, contract, supplier and FX rate they refer to, so a
-- KPI query is a scan and an aggregate, never a join over millions of lines. Kept in month order (a load of
-- invoices appends its lines, which a monthly export keeps together): DuckDB skips the row groups whose
-- months a query does not ask for, so a view of one month reads about one month of lines (at 10M lines the
-- Overview's per-month queries took a third of the time). Amounts are converted to the
-- reporting currency ($ccy) here, once, with the rate of the month of the row's own date (NULL without a rate); facts_meta records
-- which currency that was.
CREATE OR REPLACE TABLE facts_meta AS SELECT $ccy::VARCHAR AS reporting_currency, now() AS built_at;

CREATE OR REPLACE TABLE fact_invoices AS
SELECT * FROM ({fact_invoices}) ORDER BY m;

-- PO lines that count (never cancelled ones), with the contract they name when it is a contract of the
-- same supplier valid on the order date.
CREATE OR REPLACE TABLE fact_po AS
SELECT p.*, @month_ix(p.order_date) AS m,
       p.quantity * p.unit_price * @rep_rate(p.currency, rp.rate, $ccy) AS value_rep,
       c.contract_id IS NOT NULL AS on_contract,
       c.savings_type,
       -- (baseline − paid unit price) × quantity, both prices at the order month's rate of their currency
       CASE WHEN c.contract_id IS NOT NULL THEN
           (c.baseline_unit_price * @rep_rate(c.currency, rc.rate, $ccy)
            - p.unit_price * @rep_rate(p.currency, rp.rate, $ccy)) * p.quantity
       END AS savings_rep
FROM purchase_orders p
LEFT JOIN contracts c
    ON c.contract_id = p.contract_id AND c.supplier_id = p.supplier_id
   AND p.order_date BETWEEN c.start_date AND c.end_date
LEFT JOIN @fx_monthly() rp ON rp.currency = p.currency AND rp.m = @month_ix(p.order_date)
LEFT JOIN @fx_monthly() rc ON rc.currency = c.currency AND rc.m = @month_ix(p.order_date)
WHERE p.status <> 'cancelled'
ORDER BY m;

-- The category of each item, for inventory days by category (the exports carry no item master): the category
-- of its most recent PO line that counts (by order date; on the same date the larger PO value, then the
-- category's name), else of its most recent contract naming it (by start date, then contract id). An item
-- named by neither has no row: the KPIs call its category '(no category)'.
CREATE OR REPLACE TABLE fact_items AS
SELECT coalesce(p.item_id, c.item_id) AS item_id, coalesce(p.category, c.category) AS category
FROM (SELECT item_id, first(category ORDER BY order_date DESC, value_rep DESC NULLS LAST, category) AS category
      FROM fact_po WHERE item_id IS NOT NULL GROUP BY item_id) p
FULL JOIN (SELECT item_id, first(category ORDER BY start_date DESC, contract_id) AS category
           FROM contracts WHERE item_id IS NOT NULL GROUP BY item_id) c ON c.item_id = p.item_id;

-- Stock and consumption rows with their item's category (just above) and values in the reporting currency
-- (sql/fact_stock.sql, fact_consumption.sql), in month order.
CREATE OR REPLACE TABLE fact_stock AS SELECT * FROM ({fact_stock}) ORDER BY m;

CREATE OR REPLACE TABLE fact_consumption AS SELECT * FROM ({fact_consumption}) ORDER BY m;

-- The same over every item (sql/fact_stock_rollup.sql, fact_consumption_rollup.sql).
CREATE OR REPLACE TABLE fact_stock_rollup AS SELECT * FROM ({fact_stock_rollup}) ORDER BY m;

CREATE OR REPLACE TABLE fact_consumption_rollup AS SELECT * FROM ({fact_consumption_rollup}) ORDER BY m;

-- The price KPI's item-months (sql/fact_prices.sql), from the lines above.
CREATE OR REPLACE TABLE fact_prices AS SELECT * FROM ({fact_prices}) ORDER BY m;

-- The price index's monthly links per supplier and category (sql/fact_price_links.sql), from the item-months.
CREATE OR REPLACE TABLE fact_price_links AS SELECT * FROM ({fact_price_links}) ORDER BY m;

-- The monthly sums the other views read (sql/fact_invoice_months.sql, fact_paid_months.sql, fact_po_months.sql,
-- fact_po_savings.sql):
-- a KPI request reads rows in proportion to months × slices, not to lines.
CREATE OR REPLACE TABLE fact_invoice_months AS SELECT * FROM ({fact_invoice_months}) ORDER BY m;

CREATE OR REPLACE TABLE fact_paid_months AS SELECT * FROM ({fact_paid_months}) ORDER BY m;

CREATE OR REPLACE TABLE fact_po_months AS SELECT * FROM ({fact_po_months}) ORDER BY m;

CREATE OR REPLACE TABLE fact_po_savings AS SELECT * FROM ({fact_po_savings}) ORDER BY m;

-- The same sums over every supplier, for requests that neither split nor filter by supplier
-- (sql/fact_invoice_rollup.sql, fact_paid_rollup.sql, fact_po_rollup.sql).
CREATE OR REPLACE TABLE fact_invoice_rollup AS SELECT * FROM ({fact_invoice_rollup}) ORDER BY m;

CREATE OR REPLACE TABLE fact_paid_rollup AS SELECT * FROM ({fact_paid_rollup}) ORDER BY m;

CREATE OR REPLACE TABLE fact_po_rollup AS SELECT * FROM ({fact_po_rollup}) ORDER BY m;

-- The months each export holds (sql/fact_months.sql): running periods, the weak-data norm, the months with data.
CREATE OR REPLACE TABLE fact_months AS
SELECT * FROM ({fact_months})
UNION ALL
SELECT 'purchase_orders', @month_ix(order_date), count(*), count(DISTINCT order_date) FROM purchase_orders GROUP BY ALL
UNION ALL
SELECT * FROM ({stock_months})
UNION ALL
SELECT * FROM ({consumption_months})
ORDER BY source, m;
