-- The relations every KPI query starts from, as one list of CTEs (the registry puts `WITH` in front).
-- A month is the integer @month_ix(date) = year * 12 + month - 1, so "a year earlier" is m - 12. Functions are
-- called as @name(...) and rendered for the engine that runs the query (kpi_definitions/dialects/).
-- Parameters: $months/$labels (each month of the range and the label of its period), $m_lo/$m_hi (the
-- first month less a year, and the last month: every row a view or bridge may need), $ccy (the
-- reporting currency) and one list per slicing dimension ($supplier_id, ...; NULL = no filter).
-- Amounts convert with the fx_rates row of the month of the row's own date (for invoice and PO lines,
-- sql/facts.sql did it at load); a row with no rate keeps a NULL reporting amount, so it drops out of
-- sums and each view counts it in `excluded`.
buckets AS (
    @rows($months AS m INTEGER, $labels AS period VARCHAR)
),
period_days AS (
    SELECT period, sum(@days_in_month(m)) AS days FROM buckets GROUP BY period
),
-- Invoice lines (sql/facts.sql joined them to their PO line, contract, supplier and FX rate at load).
invoice_lines AS (
    SELECT i.*
    FROM fact_invoices i
    -- only the months asked for (and the year before them for a year-over-year view): one range on m, which
    -- DuckDB checks against each row group's min and max, so facts kept in month order skip the other months
    WHERE i.m BETWEEN $m_lo AND $m_hi
      AND @picked($supplier_id, i.supplier_id)
      AND @picked($category, i.category)
      AND @picked($cost_center, i.cost_center)
),
-- PO lines that count (never cancelled ones), with the contract they name when it is a contract of the
-- same supplier valid on the order date; contract prices convert at the order month's rate.
po_lines AS (
    SELECT p.*
    FROM fact_po p
    WHERE p.m BETWEEN $m_lo AND $m_hi
      AND @picked($supplier_id, p.supplier_id)
      AND @picked($category, p.category)
      AND @picked($cost_center, p.cost_center)
),
-- Invoice lines with the (not cancelled) PO line they name (po_found, po_contract_id, po_m), whether
-- that line is on a valid contract, and the agreed terms: all carried by the facts.
invoice_po AS (
    SELECT * FROM invoice_lines
),
-- Payment days count lines with a positive amount by the month they were paid in (invoiced then or before).
paid_lines AS (
    SELECT i.invoice_id, i.invoice_line, i.supplier_id, i.po_id, i.po_line, i.category, i.cost_center,
           i.invoice_date, i.paid_date, i.amount_rep, i.days_taken, i.agreed_terms, i.paid_m AS m
    FROM fact_invoices i
    WHERE i.paid_m BETWEEN $m_lo AND $m_hi AND i.amount > 0 AND i.paid_date IS NOT NULL
      AND @picked($supplier_id, i.supplier_id)
      AND @picked($category, i.category)
      AND @picked($cost_center, i.cost_center)
),
-- Invoice lines summed per month and slice when they were loaded (sql/fact_invoice_months.sql): what the views
-- of spend read instead of the lines.
invoice_months AS (
    SELECT x.*
    FROM fact_invoice_months x
    WHERE x.m BETWEEN $m_lo AND $m_hi
      AND @picked($supplier_id, x.supplier_id)
      AND @picked($category, x.category)
      AND @picked($cost_center, x.cost_center)
),
-- Paid lines (a positive amount) summed per month paid and slice (sql/fact_paid_months.sql).
paid_months AS (
    SELECT x.*
    FROM fact_paid_months x
    WHERE x.m BETWEEN $m_lo AND $m_hi
      AND @picked($supplier_id, x.supplier_id)
      AND @picked($category, x.category)
      AND @picked($cost_center, x.cost_center)
),
-- PO lines on a valid contract summed per order month, slice and savings type (sql/fact_po_savings.sql).
po_savings AS (
    SELECT x.*
    FROM fact_po_savings x
    WHERE x.m BETWEEN $m_lo AND $m_hi
      AND @picked($supplier_id, x.supplier_id)
      AND @picked($category, x.category)
      AND @picked($cost_center, x.cost_center)
),
-- PO lines that count summed per order month and slice (sql/fact_po_months.sql).
po_months AS (
    SELECT x.*
    FROM fact_po_months x
    WHERE x.m BETWEEN $m_lo AND $m_hi
      AND @picked($supplier_id, x.supplier_id)
      AND @picked($category, x.category)
      AND @picked($cost_center, x.cost_center)
),
-- Actual spend: invoice amounts by invoice month, with the lines counted and those without an FX rate.
actual_spend AS (
    SELECT m, supplier_id, category, cost_center, spend AS amount, lines, unconverted FROM invoice_months
),
-- Committed = PO values by order month + invoices that carry no PO.
committed_spend AS (
    SELECT m, supplier_id, category, cost_center, value AS amount, lines, unconverted FROM po_months
    UNION ALL
    SELECT m, supplier_id, category, cost_center, nonpo_spend, nonpo_lines, nonpo_unconverted FROM invoice_months
),
-- The price KPI's facts of the months needed (sql/fact_prices.sql: invoice lines summed per month, supplier,
-- item and category at load).
price_facts AS (
    SELECT * FROM fact_prices
    WHERE m BETWEEN $m_lo AND $m_hi
      AND @picked($supplier_id, supplier_id)
      AND @picked($category, category)
),
-- The price KPI's items by month: an item is an item_id bought from one supplier, so a change of supplier
-- is never read as a change of price (its category: the category its lines carry). Its price in a month
-- p = spend ÷ qty over its invoice lines of the month with a quantity > 0 and an amount > 0 in the
-- reporting currency (credit notes and lines without an item or a quantity carry no price; an item whose
-- lines of the month all lack an FX rate has a NULL spend and no price). `contracted`: some of those lines
-- were bought on a valid contract; `unpriced`: its lines of the month with no FX rate.
price_items AS @materialized() (
    -- keyed by one 64-bit hash of (supplier_id, item_id): grouping and joining on it is several times faster
    -- than on the two texts (a collision between two items is vanishingly unlikely).
    SELECT m, @hash(supplier_id, item_id) AS k, any_value(supplier_id) AS supplier_id, any_value(item_id) AS item_id,
           any_value(category) AS category, sum(spend) AS spend, sum(qty) AS qty,
           bool_or(contracted) AS contracted, sum(unpriced) AS unpriced
    FROM price_facts
    WHERE priced_lines > 0
    GROUP BY m, k
),
budget_lines AS (
    SELECT b.*, @month_ix(b.fiscal_period) AS m,
           b.budget_amount * @rep_rate(b.currency, r.rate, $ccy) AS budget_rep
    FROM budgets b
    LEFT JOIN @fx_monthly() r ON r.currency = b.currency AND r.m = @month_ix(b.fiscal_period)
    WHERE @picked($category, b.category)
      AND @picked($cost_center, b.cost_center)
),
-- Stock snapshot rows and consumption with their item's category and values in the reporting currency, as
-- joined at load (sql/fact_stock.sql, fact_consumption.sql): the months asked for only.
inventory_lines AS (
    SELECT x.*
    FROM fact_stock x
    WHERE x.m BETWEEN $m_lo AND $m_hi
      AND @picked($item_id, x.item_id)
      AND @picked($location, x.location)
      AND @picked($category, x.category)
),
consumption_lines AS (
    SELECT x.*
    FROM fact_consumption x
    WHERE x.m BETWEEN $m_lo AND $m_hi
      AND @picked($item_id, x.item_id)
      AND @picked($location, x.location)
      AND @picked($category, x.category)
)
