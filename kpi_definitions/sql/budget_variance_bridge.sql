-- From variance on commitments (procurement) to variance on invoices (finance). The budget and the
-- invoices without a PO are on both sides, so the gap is invoices on POs − PO values of the period.
WITH cur AS (SELECT m FROM buckets),
invoiced AS (
    SELECT DISTINCT po_id, po_line FROM invoices
    WHERE po_id IS NOT NULL AND month_ix(invoice_date) IN (SELECT m FROM cur)
),
po AS (
    SELECT x.value_rep, (x.po_id, x.po_line) IN (SELECT (po_id, po_line) FROM invoiced) AS invoiced
    FROM po_lines x WHERE x.value_rep IS NOT NULL AND x.m IN (SELECT m FROM cur)
),
inv AS (
    SELECT x.amount_rep, x.po_found, x.po_m IN (SELECT m FROM cur) AS same_period
    FROM invoice_po x WHERE x.has_po AND x.amount_rep IS NOT NULL AND x.m IN (SELECT m FROM cur)
),
steps AS (
    SELECT
        -coalesce((SELECT sum(value_rep) FROM po WHERE NOT invoiced), 0) AS orders_not_invoiced,
        coalesce((SELECT sum(amount_rep) FROM inv WHERE po_found AND same_period), 0)
            - coalesce((SELECT sum(value_rep) FROM po WHERE invoiced), 0) AS invoice_vs_order,
        coalesce((SELECT sum(amount_rep) FROM inv WHERE po_found AND NOT same_period), 0) AS earlier_orders,
        coalesce((SELECT sum(amount_rep) FROM inv WHERE NOT po_found), 0) AS unknown_orders
)
-- timing: the two timing effects netted (they mostly offset each other), each part kept as its own column
SELECT orders_not_invoiced + earlier_orders AS timing, * FROM steps
