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
),
-- What holds budget (docs/budgets.md), summed per bucket, month and slice as kept at load: the lines before an
-- invoice (requisitions not yet ordered, the open and the received part of PO lines: sql/fact_flow.sql
-- `fact_funds_months`, with the month each team dates them in, NULL where a team does not count them) and the
-- invoice lines, actuals by invoice month for both teams, on a PO line that counts or not (sql/fact_invoice_months.sql).
-- `lines`: how many lines a sum holds; `unconverted`: how many of them have no FX rate for their month (their
-- amount is NULL, as the sum is when none converts).
funds_use AS (
    SELECT f.bucket, f.m_fin, f.m_proc, f.category, f.cost_center, f.amount, f.lines, f.unconverted
    FROM fact_funds_months f
    WHERE (f.m_fin BETWEEN $m_lo AND $m_hi OR f.m_proc BETWEEN $m_lo AND $m_hi)
      AND @picked($category, f.category)
      AND @picked($cost_center, f.cost_center)
    UNION ALL
    SELECT 'invoiced_on_po', i.m, i.m, i.category, i.cost_center, i.found_spend, i.found_lines, i.found_unconverted
    FROM fact_invoice_months i
    WHERE i.m BETWEEN $m_lo AND $m_hi AND i.found_lines > 0
      AND @picked($category, i.category)
      AND @picked($cost_center, i.cost_center)
    UNION ALL
    SELECT 'non_po_invoices', i.m, i.m, i.category, i.cost_center, i.unfound_spend, i.lines - i.found_lines,
           i.unconverted - i.found_unconverted
    FROM fact_invoice_months i
    WHERE i.m BETWEEN $m_lo AND $m_hi AND i.lines > i.found_lines
      AND @picked($category, i.category)
      AND @picked($cost_center, i.cost_center)
),
-- Invoices as documents (sql/fact_flow.sql `fact_documents`), by the month of their first invoice date, with how
-- each team's touchless and first-time-match rules read them; `every_invoice` is true (a scope of all of them).
invoice_flow AS (
    SELECT d.*, true AS every_invoice, coalesce(d.po_invoice AND d.matchable, false) AS match_scope
    FROM fact_documents d
    WHERE d.document_type = 'invoice' AND d.m BETWEEN $m_lo AND $m_hi
      AND @picked($supplier_id, d.supplier_id)
      AND @picked($category, d.category)
      AND @picked($cost_center, d.cost_center)
),
-- The savings ledger (savings_ledger.yaml; docs/savings-ledger.md). Each initiative with its stage (its latest
-- move in savings_moves; 'identified' before any), whether the ledger counts it (`counted`: negotiated or later),
-- the days of its window and those that count (its first 365 at most), r0: what one unit of its currency is
-- worth in the reporting currency in the month its window starts (the rate its negotiated saving is stated at),
-- and the level of the market index its category follows in that month (index0; NULL without one). Days are
-- counted from window_start (day 0), so no date is ever added to.
ledger_initiatives AS (
    SELECT i.initiative_id, i.name, i.category, i.supplier_id, i.contract_id, i.item_id, i.type, i.baseline_method,
           i.baseline_price, i.new_price, i.forecast_quantity, i.currency, i.window_start, i.window_end, i.owner,
           coalesce(s.to_stage, 'identified') AS stage,
           coalesce(s.to_stage, 'identified') IN ('negotiated', 'contracted', 'realised', 'booked') AS counted,
           @days_between(i.window_start, i.window_end) + 1 AS window_days,
           least(@days_between(i.window_start, i.window_end) + 1, 365) AS counted_days,
           @rep_rate(i.currency, r0.rate, $ccy) AS r0,
           ci.index_name, p0.value AS index0
    FROM savings_initiatives i
    LEFT JOIN (SELECT initiative_id, @last_by(to_stage, move_id) AS to_stage FROM savings_moves
               GROUP BY initiative_id) s ON s.initiative_id = i.initiative_id
    LEFT JOIN @fx_monthly() r0 ON r0.currency = i.currency AND r0.m = @month_ix(i.window_start)
    LEFT JOIN category_index ci ON ci.category = i.category
    LEFT JOIN price_indices p0 ON p0.index_name = ci.index_name AND @month_ix(p0.period) = @month_ix(i.window_start)
    WHERE @picked($supplier_id, i.supplier_id)
      AND @picked($category, i.category)
),
-- Each initiative in each month of the range its counted days reach: the days of the month it counts and its
-- forecast quantity prorated to them (forecast_quantity is over the whole window: a day's share is 1 ÷ its days).
-- d_first / d_last: the month's first and last day, counted from window_start.
ledger_months AS (
    SELECT x.*, @div(x.forecast_quantity * x.days, x.window_days) AS forecast_qty
    FROM (
        SELECT y.*, least(y.counted_days - 1, y.d_last) - greatest(0, y.d_first) + 1 AS days
        FROM (
            SELECT i.*, b.m, b.period, @days_between(i.window_start, @month_start(b.m)) AS d_first,
                   @days_between(i.window_start, @month_start(b.m)) + @days_in_month(b.m) - 1 AS d_last
            FROM ledger_initiatives i
            CROSS JOIN buckets b
        ) y
        WHERE y.d_first <= y.counted_days - 1 AND y.d_last >= 0
    ) x
),
-- Invoice lines of each counted initiative's supplier and category (and item, when it names one) dated in its
-- counted days, in the months of the range, with what each adds to each step of the bridge:
--   under: the line's PO line is on the initiative's contract (valid on the order date); else off contract.
--   q: the quantity invoiced; a credit note moves none (an amount below 0 with a quantity above 0 credits a
--      price, not units; one without a quantity credits an amount); NULL: an amount with no quantity.
--   r: the initiative currency's rate in the line's month; b_line: the baseline price per unit (moved with the
--      category's index since the window's first month when the baseline method is index_adjusted); b_indexed:
--      the baseline moved with the index whatever the method (the index-adjusted column; NULL without an index).
--   left_out: no FX rate for the line's or the initiative's currency: in no step, counted in `excluded`.
ledger_lines AS (
    SELECT x.*,
           CASE WHEN x.left_out THEN 0 WHEN x.under AND x.q IS NOT NULL THEN x.pn * x.r * x.q - x.amount_rep ELSE 0 END AS price,
           CASE WHEN x.left_out THEN 0 WHEN x.under AND x.q IS NOT NULL THEN (x.b - x.pn) * (x.r - x.r0) * x.q ELSE 0 END AS fx,
           CASE WHEN x.left_out THEN 0 WHEN x.under AND x.q IS NOT NULL THEN (x.b_line - x.b) * x.r * x.q ELSE 0 END AS market_index,
           CASE WHEN x.left_out THEN 0 WHEN x.under AND x.q IS NULL THEN -(x.b - x.pn) * x.r0 * x.q_est ELSE 0 END AS scope,
           CASE WHEN x.left_out THEN 0 WHEN NOT x.under AND x.q IS NOT NULL THEN -(x.b - x.pn) * x.r0 * x.q ELSE 0 END AS off_contract,
           -- every unit bought in scope, at the saving per unit negotiated (the volume step takes the forecast off)
           CASE WHEN x.left_out THEN 0 WHEN x.under AND x.q IS NULL THEN (x.b - x.pn) * x.r0 * x.q_est
                WHEN x.q IS NOT NULL THEN (x.b - x.pn) * x.r0 * x.q ELSE 0 END AS bought,
           CASE WHEN x.left_out THEN 0 WHEN x.under AND x.q IS NOT NULL THEN x.b_line * x.r * x.q - x.amount_rep ELSE 0 END AS realised,
           CASE WHEN x.left_out THEN 0 WHEN x.under AND x.q IS NOT NULL
                THEN coalesce(x.b_indexed, x.b) * x.r * x.q - x.amount_rep ELSE 0 END AS realised_indexed,
           CASE WHEN x.left_out THEN 'left out: no FX rate'
                WHEN x.under AND x.q IS NULL THEN 'on contract, no quantity (scope)'
                WHEN x.under THEN 'on contract' WHEN x.q IS NULL THEN 'off contract, no quantity'
                ELSE 'off contract' END AS counted_as
    FROM (
        SELECT l.*,
               l.amount_rep IS NULL OR l.r IS NULL OR l.r0 IS NULL AS left_out,
               -- a line without a quantity bought this much at the new price (nothing measurable at a new price of 0)
               coalesce(@div(l.amount_rep, l.pn * l.r), 0) AS q_est,
               CASE WHEN l.baseline_method = 'index_adjusted' THEN coalesce(l.b_indexed, l.b) ELSE l.b END AS b_line
        FROM (
            SELECT i.initiative_id, i.baseline_method, i.r0, i.baseline_price AS b, i.new_price AS pn,
                   x.invoice_id, x.invoice_line, x.invoice_date, x.m, x.supplier_id, x.category, x.cost_center,
                   x.item_id, x.po_id, x.po_line, x.quantity, x.amount, x.currency, x.amount_rep,
                   coalesce(x.on_contract AND x.po_contract_id = i.contract_id, false) AS under,
                   CASE WHEN x.quantity IS NULL THEN (CASE WHEN x.amount <= 0 THEN 0 END)
                        WHEN x.amount < 0 AND x.quantity > 0 THEN 0 ELSE x.quantity END AS q,
                   @rep_rate(i.currency, r.rate, $ccy) AS r,
                   @div(i.baseline_price * p.value, i.index0) AS b_indexed
            FROM ledger_initiatives i
            JOIN fact_invoices x
              ON x.supplier_id = i.supplier_id AND x.category = i.category
             AND (i.item_id IS NULL OR x.item_id = i.item_id)
             AND @days_between(i.window_start, x.invoice_date) BETWEEN 0 AND i.counted_days - 1
            LEFT JOIN @fx_monthly() r ON r.currency = i.currency AND r.m = x.m
            LEFT JOIN price_indices p ON p.index_name = i.index_name AND @month_ix(p.period) = x.m
            WHERE i.counted AND x.m BETWEEN $m_lo AND $m_hi AND x.m IN (SELECT m FROM buckets)
        ) l
    ) x
),
-- Each counted initiative in each month: every step of the bridge from the negotiated saving to the booked one,
-- in the reporting currency (docs/savings-ledger.md has the algebra: the steps add up exactly):
--   negotiated       (baseline − new price) × forecast quantity prorated to the month's counted days, at r0
--   volume           (baseline − new price) × r0 × (every unit bought in scope − that forecast)
--   off_contract     −(baseline − new price) × r0 × the units bought off the contract
--   price            Σ on contract (new price × r − amount paid): paid above or below the new price
--   fx               Σ on contract (baseline − new price) × (r − r0) × q: the saving's worth moved with the rate
--   market_index     Σ on contract (b_line − baseline) × r × q: an index-adjusted baseline moved with the market
--   scope            −(baseline − new price) × r0 × what lines without a quantity bought: not measurable
--   realised         Σ on contract (b_line × r × q − amount paid), from the lines, never typed
--   booked           what finance booked for the month (savings_bookings: frozen, corrections are new entries)
--   not_booked       booked − realised
-- A month of an initiative whose currency has no rate in its window's first month (r0) is left out whole.
ledger_steps AS (
    SELECT mo.initiative_id, mo.name, mo.supplier_id, mo.category, mo.type, mo.baseline_method, mo.stage,
           mo.index_name, mo.m, mo.period, mo.days, mo.forecast_qty,
           CASE WHEN mo.r0 IS NOT NULL THEN (mo.baseline_price - mo.new_price) * mo.forecast_qty * mo.r0 END AS negotiated,
           CASE WHEN mo.r0 IS NOT NULL THEN coalesce(l.price, 0) END AS price_not_applied,
           CASE WHEN mo.r0 IS NOT NULL
                THEN coalesce(l.bought, 0) - (mo.baseline_price - mo.new_price) * mo.forecast_qty * mo.r0 END AS volume,
           CASE WHEN mo.r0 IS NOT NULL THEN coalesce(l.off_contract, 0) END AS off_contract,
           CASE WHEN mo.r0 IS NOT NULL THEN coalesce(l.fx, 0) END AS fx,
           CASE WHEN mo.r0 IS NOT NULL THEN coalesce(l.market_index, 0) END AS market_index,
           CASE WHEN mo.r0 IS NOT NULL THEN coalesce(l.scope, 0) END AS scope,
           CASE WHEN mo.r0 IS NOT NULL THEN coalesce(l.realised, 0) END AS realised,
           CASE WHEN mo.r0 IS NOT NULL THEN coalesce(l.realised_indexed, 0) END AS realised_indexed,
           CASE WHEN mo.r0 IS NOT NULL THEN coalesce(k.booked, 0) END AS booked,
           CASE WHEN mo.r0 IS NOT NULL THEN coalesce(k.booked, 0) - coalesce(l.realised, 0) END AS not_booked,
           coalesce(l.lines_under, 0) AS lines_under, coalesce(l.lines_off, 0) AS lines_off,
           coalesce(l.left_out, 0) AS lines_left_out, coalesce(k.entries, 0) AS entries, k.refused
    FROM ledger_months mo
    LEFT JOIN (
        SELECT initiative_id, m, sum(price) AS price, sum(bought) AS bought, sum(off_contract) AS off_contract,
               sum(fx) AS fx, sum(market_index) AS market_index, sum(scope) AS scope, sum(realised) AS realised,
               sum(realised_indexed) AS realised_indexed,
               count(*) FILTER (WHERE under AND NOT left_out) AS lines_under,
               count(*) FILTER (WHERE NOT under AND NOT left_out) AS lines_off,
               count(*) FILTER (WHERE left_out) AS left_out
        FROM ledger_lines GROUP BY initiative_id, m
    ) l ON l.initiative_id = mo.initiative_id AND l.m = mo.m
    LEFT JOIN (
        SELECT initiative_id, @month_ix(period) AS m, sum(amount) AS booked, count(*) AS entries,
               bool_or(kind = 'refused') AS refused
        FROM savings_bookings GROUP BY initiative_id, @month_ix(period)
    ) k ON k.initiative_id = mo.initiative_id AND k.m = mo.m
    WHERE mo.counted
)
