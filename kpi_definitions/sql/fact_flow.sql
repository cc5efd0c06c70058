-- The facts of budgets and approval flows, rebuilt in the transaction of each load that changes their sources
-- (requisitions, approval events, purchase orders, receipts, invoices, FX rates; kpi_definitions/flow.py), so a
-- page never reads millions of events or lines to draw them:
--   fact_waits        every approval event in its document's time order, with the wait before it (queue time)
--   fact_documents    one row per requisition, purchase order and invoice: who owns it, where it stands, how
--                     its approval went, and (invoices) how each team's touchless and first-time-match rules
--                     read it
--   fact_cycles       one row per document and stage of the flow it completed, with the stage's duration
--   fact_funds_lines  the lines that hold budget before an invoice: requisitions not yet ordered, and the part
--                     of each PO line neither invoiced nor (for the rest) received
--   fact_funds_months those lines summed per bucket, month and slice (what funds available reads)
--   fact_po_invoiced  each PO line's invoices: what was invoiced, the first invoice date, how many lines
-- A load of invoices rebuilds only the documents it touched (kpi_definitions/flow.py `update_invoices`,
-- sql/fact_flow_touched.sql): each table's `CREATE OR REPLACE ... AS` becomes a delete of their rows and an insert,
-- and the placeholders scope each statement to them: {in_pos:X} (X names an order the load invoiced),
-- {in_invoices:X} (X names an invoice it touched), {documents} (a row of one of those documents) and
-- {requisitions} (false: a requisition never changes with an invoice). For a whole rebuild each is `true`.
-- A load that only adds invoices, each dated after every invoice already on its PO lines (a monthly load), reads
-- its own lines only: {new:X} (X is a line of the load) and {prior} (fact_po_invoiced of its PO lines as they were,
-- whose quantity the running sums start from); otherwise `true` and no rows. {purchase_orders} and {receipts} are
-- those tables, or for a load of invoices their rows of the orders it touched (read once, not by every statement).
-- Durations are epoch seconds apart (a timestamp is an instant: a zone crossing midnight changes nothing), and
-- stages are per document: a ten-line order is one order, never ten (docs/budgets.md).
-- A document's cost center, category and supplier are those of its first line.

-- Events in their document's time order (event_at, seq breaking ties: a document whose seq goes back in time is
-- a data-quality finding, and is read in time order); the wait before each is the time since the previous one.
CREATE OR REPLACE TEMP TABLE _events AS
SELECT e.document_type, e.document_id, e.seq, e.step, e.event, e.actor, e.actor_role, e.on_behalf_of, e.event_at,
       e.comment, @month_ix(@utc(e.event_at)) AS m,
       row_number() OVER w AS n,
       @epoch_seconds(e.event_at) - @epoch_seconds(lag(e.event_at) OVER w) AS wait_s
FROM approval_events e
WHERE {events}
WINDOW w AS (PARTITION BY e.document_type, e.document_id ORDER BY e.event_at, e.seq);

-- Each PO line's invoices (on a line that counts): what was invoiced in the reporting currency, how many of them
-- have no FX rate, the first and last invoice dates, how many lines (which tells a load that a replaced line left
-- an order it did not touch: kpi_definitions/flow.py) and the quantity invoiced on lines a match reads (a quantity
-- and a positive amount); read by the documents (an order's first invoice, the match) and the funds. A sum over no
-- converted line is NULL, as over the lines.
CREATE OR REPLACE TABLE fact_po_invoiced AS
SELECT po_id, po_line, sum(invoiced) AS invoiced, CAST(sum(unconverted) AS BIGINT) AS unconverted,
       min(first_invoiced) AS first_invoiced, max(last_invoiced) AS last_invoiced, CAST(sum(lines) AS BIGINT) AS lines,
       sum(quantity) AS quantity
FROM (
    SELECT po_id, po_line, sum(amount_rep) AS invoiced, count(*) FILTER (WHERE amount_rep IS NULL) AS unconverted,
           min(invoice_date) AS first_invoiced, max(invoice_date) AS last_invoiced, count(*) AS lines,
           coalesce(sum(quantity) FILTER (WHERE quantity > 0 AND amount > 0), 0) AS quantity
    FROM fact_invoices i WHERE po_found AND {in_pos:po_id} AND {new:i} GROUP BY po_id, po_line
    UNION ALL
    SELECT po_id, po_line, invoiced, unconverted, first_invoiced, last_invoiced, lines, quantity FROM {prior}
)
GROUP BY po_id, po_line;

-- Each order's issue (`issued_at`, else its approval, else its order date at 00:00 UTC) and its lines' figures.
CREATE OR REPLACE TEMP TABLE _po_heads AS
SELECT p.po_id AS document_id,
       @first_by(p.cost_center, p.po_line) AS cost_center, @first_by(p.category, p.po_line) AS category,
       @first_by(p.supplier_id, p.po_line) AS supplier_id,
       sum(p.quantity * p.unit_price * @rep_rate(p.currency, x.rate, $ccy)) AS amount_rep,
       count(*) FILTER (WHERE @rep_rate(p.currency, x.rate, $ccy) IS NULL) AS unconverted,
       min(p.approved_at) AS approved_at,
       min(coalesce(p.issued_at, p.approved_at, to_timestamp(@epoch_seconds(p.order_date)))) AS issued_at
FROM {purchase_orders} p
LEFT JOIN @fx_monthly() x ON x.currency = p.currency AND x.m = @month_ix(p.order_date)
WHERE p.status <> 'cancelled' AND {in_pos:p.po_id}
GROUP BY p.po_id;

CREATE OR REPLACE TABLE fact_documents AS
WITH flow AS (  -- each document's events, summed up
    SELECT document_type, document_id,
           min(event_at) FILTER (WHERE event = 'submitted') AS first_submitted,
           max(event_at) FILTER (WHERE event = 'approved') AS last_approved,
           @last_by(event, n) AS last_event, @last_by(step, n) AS last_step, @last_by(actor_role, n) AS last_role,
           @last_by(actor, n) AS last_actor, max(event_at) AS last_at,
           bool_or(event IN ('rejected', 'returned')) AS reworked,
           bool_or(actor_role = 'ap_clerk') AS touched_ap,
           bool_or(coalesce(actor_role, '') <> 'system') AS touched_any,
           count(*) AS events
    FROM _events
    GROUP BY document_type, document_id
),
reqs AS (
    SELECT r.req_id AS document_id,
           @first_by(r.cost_center, r.req_line) AS cost_center, @first_by(r.category, r.req_line) AS category,
           @first_by(r.supplier_id, r.req_line) AS supplier_id,
           sum(r.amount * @rep_rate(r.currency, x.rate, $ccy)) AS amount_rep,
           count(*) FILTER (WHERE @rep_rate(r.currency, x.rate, $ccy) IS NULL) AS unconverted,
           @first_by(r.status, r.req_line) AS status,
           min(r.submitted_at) AS submitted_at, max(r.approved_at) AS approved_at,
           min(o.issued_at) AS ordered_at  -- the first order its lines name, issued
    FROM requisitions r
    LEFT JOIN @fx_monthly() x ON x.currency = r.currency AND x.m = @month_ix(@utc(r.submitted_at))
    LEFT JOIN _po_heads o ON o.document_id = r.po_id
    WHERE {requisitions}
    GROUP BY r.req_id
),
po_heads AS (  -- with its first goods receipt and its first invoice
    SELECT h.*, g.received_on, v.invoiced_on
    FROM _po_heads h
    LEFT JOIN (SELECT po_id, min(receipt_date) AS received_on FROM {receipts} WHERE {in_pos:po_id} GROUP BY po_id) g
        ON g.po_id = h.document_id
    LEFT JOIN (SELECT po_id, min(first_invoiced) AS invoiced_on FROM fact_po_invoiced WHERE {in_pos:po_id} GROUP BY po_id) v
        ON v.po_id = h.document_id
),
-- First-time match, line by line: a PO invoice line with a quantity and a positive amount, on a PO line that
-- counts. Two-way: its price within 1 % of the PO's (both at the invoice month's rate) and the quantity invoiced
-- on the PO line so far (this line included) within the PO quantity. Three-way: also received by its invoice date.
inv_lines AS (
    SELECT i.invoice_id, i.invoice_line, i.invoice_date, i.po_id, i.po_line, i.quantity, i.amount_rep,
           p.quantity AS po_quantity,
           i.quantity * p.unit_price * @rep_rate(p.currency, x.rate, $ccy) AS ordered_rep,
           coalesce(q.quantity, 0) + sum(i.quantity) OVER (PARTITION BY i.po_id, i.po_line
                                 ORDER BY i.invoice_date, i.invoice_id, i.invoice_line) AS invoiced_so_far
    FROM fact_invoices i
    JOIN {purchase_orders} p ON p.po_id = i.po_id AND p.po_line = i.po_line AND p.status <> 'cancelled'
        AND {in_pos:p.po_id}
    LEFT JOIN @fx_monthly() x ON x.currency = p.currency AND x.m = i.m
    LEFT JOIN {prior} q ON q.po_id = i.po_id AND q.po_line = i.po_line  -- what was invoiced on it before
    -- an order's lines all (or the load's, after them), for the running sums
    WHERE i.quantity > 0 AND i.amount > 0 AND {in_pos:i.po_id} AND {new:i}
),
received AS (  -- what was received on each such line's PO line by its invoice date, and ever
    SELECT l.invoice_id, l.invoice_line,
           sum(r.quantity) FILTER (WHERE r.receipt_date <= l.invoice_date) AS by_then, sum(r.quantity) AS ever
    FROM inv_lines l
    JOIN {receipts} r ON r.po_id = l.po_id AND r.po_line = l.po_line AND {in_pos:r.po_id}
    GROUP BY l.invoice_id, l.invoice_line
),
matched AS (
    SELECT l.invoice_id, l.invoice_line,
           abs(l.amount_rep - l.ordered_rep) <= 0.01 * l.ordered_rep AND l.invoiced_so_far <= l.po_quantity * (1 + 1e-9)
               AS two_way,
           coalesce(r.by_then, 0) >= l.invoiced_so_far * (1 - 1e-9) AS received_by_then,
           coalesce(r.ever, 0) >= l.invoiced_so_far * (1 - 1e-9) AS received_ever
    FROM inv_lines l
    LEFT JOIN received r USING (invoice_id, invoice_line)
),
invs AS (
    SELECT i.invoice_id AS document_id,
           @first_by(i.cost_center, i.invoice_line) AS cost_center, @first_by(i.category, i.invoice_line) AS category,
           @first_by(i.supplier_id, i.invoice_line) AS supplier_id,
           sum(i.amount_rep) AS amount_rep, count(*) FILTER (WHERE i.amount_rep IS NULL) AS unconverted,
           min(i.invoice_date) AS invoice_date, min(i.m) AS m,
           CASE WHEN count(i.paid_date) = count(*) THEN max(i.paid_date) END AS paid_date,
           bool_and(i.po_id IS NOT NULL) AS po_invoice,
           -- matchable: every line matched above, and none whose comparison had no FX rate
           count(*) = count(x.invoice_line) AND count(x.two_way) = count(*) AS matchable,
           bool_and(x.two_way) AS two_way,
           bool_and(x.two_way AND x.received_by_then) AS three_way,
           bool_and(x.received_ever) AS received_ever
    FROM fact_invoices i
    LEFT JOIN matched x ON x.invoice_id = i.invoice_id AND x.invoice_line = i.invoice_line
    WHERE {in_invoices:i.invoice_id} AND {new:i}
    GROUP BY i.invoice_id
)
SELECT *, @month_ix(@utc(decided_at)) AS decided_m FROM (
SELECT 'requisition' AS document_type, r.document_id, r.cost_center, r.category, r.supplier_id, r.amount_rep,
       r.unconverted,
       CASE WHEN r.status IN ('approved', 'ordered') THEN 'approved' WHEN r.status = 'rejected' THEN 'rejected'
            WHEN r.status = 'cancelled' THEN 'withdrawn' WHEN r.status = 'pending' THEN 'waiting' ELSE 'draft' END
           AS state,
       coalesce(f.first_submitted, r.submitted_at) AS submitted_at,
       CASE WHEN r.status IN ('approved', 'ordered') THEN coalesce(f.last_approved, r.approved_at)
            WHEN r.status IN ('rejected', 'cancelled') THEN coalesce(f.last_at, r.submitted_at) END AS decided_at,
       coalesce(f.reworked, false) AS reworked, coalesce(f.events, 0) AS events,
       f.last_event, f.last_step, f.last_role, f.last_actor, coalesce(f.last_at, r.submitted_at) AS last_at,
       NULL::BOOLEAN AS touched_ap, NULL::BOOLEAN AS touched_any, NULL::INTEGER AS m, NULL::BOOLEAN AS po_invoice,
       NULL::BOOLEAN AS matchable, NULL::BOOLEAN AS two_way, NULL::BOOLEAN AS three_way,
       NULL::BOOLEAN AS received_ever,
       r.ordered_at AS issued_at, NULL::DATE AS received_on, NULL::DATE AS invoiced_on, NULL::DATE AS invoice_date,
       NULL::DATE AS paid_date
FROM reqs r LEFT JOIN flow f ON f.document_type = 'requisition' AND f.document_id = r.document_id
UNION ALL
-- an order or an invoice is decided by its last event: approved, rejected or withdrawn; otherwise it waits
SELECT 'purchase_order', p.document_id, p.cost_center, p.category, p.supplier_id, p.amount_rep, p.unconverted,
       CASE WHEN f.last_event = 'approved' OR (f.events IS NULL AND p.approved_at IS NOT NULL) THEN 'approved'
            WHEN f.last_event = 'rejected' THEN 'rejected' WHEN f.last_event = 'withdrawn' THEN 'withdrawn'
            WHEN f.events IS NULL THEN 'approved' ELSE 'waiting' END,
       f.first_submitted,
       CASE WHEN f.last_event IN ('approved', 'rejected', 'withdrawn') THEN f.last_at
            WHEN f.events IS NULL THEN p.approved_at END,
       coalesce(f.reworked, false), coalesce(f.events, 0),
       f.last_event, f.last_step, f.last_role, f.last_actor, f.last_at,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       p.issued_at, p.received_on, p.invoiced_on, NULL, NULL
FROM po_heads p LEFT JOIN flow f ON f.document_type = 'purchase_order' AND f.document_id = p.document_id
UNION ALL
SELECT 'invoice', i.document_id, i.cost_center, i.category, i.supplier_id, i.amount_rep, i.unconverted,
       CASE WHEN f.last_event = 'approved' THEN 'approved' WHEN f.last_event = 'rejected' THEN 'rejected'
            WHEN f.last_event = 'withdrawn' THEN 'withdrawn' WHEN f.events IS NULL THEN 'unknown' ELSE 'waiting' END,
       f.first_submitted,
       CASE WHEN f.last_event IN ('approved', 'rejected', 'withdrawn') THEN f.last_at END,
       coalesce(f.reworked, false), coalesce(f.events, 0),
       f.last_event, f.last_step, f.last_role, f.last_actor, f.last_at,
       f.touched_ap, f.touched_any, i.m, i.po_invoice, i.matchable, i.two_way, i.three_way, i.received_ever,
       NULL, NULL, NULL, i.invoice_date, i.paid_date
FROM invs i LEFT JOIN flow f ON f.document_type = 'invoice' AND f.document_id = i.document_id
)
ORDER BY m;

-- The events with their document's cost center, category and supplier, in month order (a span reads its months).
CREATE OR REPLACE TABLE fact_waits AS
SELECT e.*, d.cost_center, d.category, d.supplier_id
FROM _events e
LEFT JOIN fact_documents d ON d.document_type = e.document_type AND d.document_id = e.document_id
ORDER BY e.m;

-- The stages of the flow, one row per document that completed one, dated by the month it completed in:
--   requisition_to_approval  first submission -> final approval (rework loops included)
--   approval_to_po           the requisition's approval -> its first order issued
--   po_to_receipt            the order's issue date -> its first goods receipt (whole days)
--   receipt_to_invoice       the first receipt -> the first invoice on the order (whole days; negative when the
--                            invoice came first)
--   invoice_to_payment       the invoice date -> the day its last line was paid (whole days)
CREATE OR REPLACE TABLE fact_cycles AS
WITH docs AS (SELECT * FROM fact_documents WHERE {documents})
SELECT 'requisition_to_approval' AS stage, document_type, document_id, cost_center, category, supplier_id,
       @month_ix(@utc(decided_at)) AS m, @epoch_seconds(decided_at) - @epoch_seconds(submitted_at) AS seconds
FROM docs
WHERE document_type = 'requisition' AND state = 'approved' AND submitted_at IS NOT NULL AND decided_at IS NOT NULL
UNION ALL
SELECT 'approval_to_po', document_type, document_id, cost_center, category, supplier_id,
       @month_ix(@utc(issued_at)), @epoch_seconds(issued_at) - @epoch_seconds(decided_at)
FROM docs
WHERE document_type = 'requisition' AND state = 'approved' AND decided_at IS NOT NULL AND issued_at IS NOT NULL
UNION ALL
SELECT 'po_to_receipt', document_type, document_id, cost_center, category, supplier_id,
       @month_ix(received_on), @epoch_seconds(received_on) - @epoch_seconds(CAST(@utc(issued_at) AS DATE))
FROM docs WHERE document_type = 'purchase_order' AND received_on IS NOT NULL
UNION ALL
SELECT 'receipt_to_invoice', document_type, document_id, cost_center, category, supplier_id,
       @month_ix(greatest(received_on, invoiced_on)), @epoch_seconds(invoiced_on) - @epoch_seconds(received_on)
FROM docs WHERE document_type = 'purchase_order' AND received_on IS NOT NULL AND invoiced_on IS NOT NULL
UNION ALL
SELECT 'invoice_to_payment', document_type, document_id, cost_center, category, supplier_id,
       @month_ix(paid_date), @epoch_seconds(paid_date) - @epoch_seconds(invoice_date)
FROM docs WHERE document_type = 'invoice' AND paid_date IS NOT NULL
ORDER BY m;

-- What holds budget before an invoice, line by line, with the month each team dates it in (NULL: that team does
-- not count it): requisition lines not yet on an order (pending: procurement only, by submission; approved, or
-- ordered on a PO line not loaded yet: finance by submission, procurement by approval), and each PO line's value
-- not yet invoiced, split into what was received and what is still open (finance by order date, procurement by
-- the order's approval, else its order date). Invoiced amounts are actuals, dated by invoice date for both, read
-- from the invoice lines (sql/base.sql `funds_use`). A requisition line that names a loaded PO line is never
-- counted here: the PO line carries it.
CREATE OR REPLACE TABLE fact_funds_lines AS
WITH po_received AS (
    SELECT po_id, po_line, sum(quantity) AS quantity FROM {receipts} WHERE {in_pos:po_id} GROUP BY po_id, po_line
),
po AS (
    SELECT p.po_id, p.po_line, p.supplier_id, p.category, p.cost_center, p.order_date,
           @month_ix(p.order_date) AS m_fin, coalesce(@month_ix(@utc(p.approved_at)), @month_ix(p.order_date)) AS m_proc,
           p.quantity * p.unit_price * @rep_rate(p.currency, x.rate, $ccy) AS value_rep,
           least(coalesce(g.quantity, 0), p.quantity) * p.unit_price * @rep_rate(p.currency, x.rate, $ccy) AS received_rep,
           coalesce(v.invoiced, 0) AS invoiced_rep, coalesce(v.unconverted, 0) AS invoice_unconverted
    FROM {purchase_orders} p
    LEFT JOIN @fx_monthly() x ON x.currency = p.currency AND x.m = @month_ix(p.order_date)
    LEFT JOIN fact_po_invoiced v ON v.po_id = p.po_id AND v.po_line = p.po_line
    LEFT JOIN po_received g ON g.po_id = p.po_id AND g.po_line = p.po_line
    WHERE p.status <> 'cancelled' AND {in_pos:p.po_id}
),
parts AS (
    SELECT 'received_not_invoiced' AS bucket, 'PO line' AS source, po_id AS document, po_line AS line, supplier_id,
           category, cost_center, order_date AS dated, m_fin, m_proc,
           greatest(least(received_rep, value_rep) - invoiced_rep, 0) AS amount,
           value_rep IS NULL OR invoice_unconverted > 0 AS unconverted
    FROM po
    UNION ALL
    SELECT 'open_po', 'PO line', po_id, po_line, supplier_id, category, cost_center, order_date, m_fin, m_proc,
           greatest(value_rep - greatest(received_rep, invoiced_rep), 0),
           value_rep IS NULL OR invoice_unconverted > 0
    FROM po
    UNION ALL
    SELECT CASE WHEN r.status = 'pending' THEN 'pending_requisitions' ELSE 'approved_not_ordered' END,
           'requisition line', r.req_id, r.req_line, r.supplier_id, r.category, r.cost_center,
           CAST(@utc(r.submitted_at) AS DATE),
           CASE WHEN r.status = 'pending' THEN NULL ELSE @month_ix(@utc(r.submitted_at)) END,
           @month_ix(@utc(coalesce(CASE WHEN r.status = 'pending' THEN NULL ELSE r.approved_at END, r.submitted_at))),
           r.amount * @rep_rate(r.currency, x.rate, $ccy),
           @rep_rate(r.currency, x.rate, $ccy) IS NULL
    FROM requisitions r
    LEFT JOIN @fx_monthly() x ON x.currency = r.currency AND x.m = @month_ix(@utc(r.submitted_at))
    WHERE {requisitions} AND r.status IN ('pending', 'approved', 'ordered')
      AND NOT EXISTS (SELECT 1 FROM purchase_orders p WHERE p.po_id = r.po_id AND p.po_line = r.po_line)
)
SELECT * FROM parts WHERE amount IS NULL OR amount > 0
ORDER BY m_fin;

-- The lines that hold budget summed per bucket, the months each team dates them in, and slice: what funds
-- available reads (sql/base.sql `funds_use`), a few rows per month and slice, never the lines. A sum is NULL when
-- none of its lines converts, as the sum over the lines is.
CREATE OR REPLACE TABLE fact_funds_months AS
SELECT bucket, m_fin, m_proc, category, cost_center, sum(amount) AS amount, count(*) AS lines,
       count(*) FILTER (WHERE unconverted) AS unconverted
FROM fact_funds_lines
GROUP BY bucket, m_fin, m_proc, category, cost_center
ORDER BY m_fin;

DROP TABLE _po_heads;

DROP TABLE _events
