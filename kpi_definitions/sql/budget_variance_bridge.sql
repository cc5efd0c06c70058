-- From variance on commitments (procurement) to variance on invoices (finance), per period of `buckets` and
-- slice ({dims}). The budget and the invoices without a PO are on both sides, so the gap is invoices on POs −
-- PO values of the period.
WITH invoiced AS (  -- the PO lines some invoice line (of any slice) invoices in each period
    SELECT DISTINCT b.period, i.po_id, i.po_line
    FROM fact_invoices i
    JOIN buckets b ON b.m = i.m
    WHERE i.po_id IS NOT NULL AND i.m BETWEEN $m_lo AND $m_hi
),
po AS (
    SELECT b.period{dims:x}, x.value_rep, v.po_id IS NOT NULL AS invoiced
    FROM po_lines x
    JOIN buckets b ON b.m = x.m
    LEFT JOIN invoiced v ON v.period = b.period AND v.po_id = x.po_id AND v.po_line = x.po_line
    WHERE x.value_rep IS NOT NULL
),
inv AS (  -- invoice lines on a PO line, and whether that line was ordered in the same period
    SELECT b.period{dims:x}, x.amount_rep, x.po_found, o.m IS NOT NULL AS same_period
    FROM invoice_po x
    JOIN buckets b ON b.m = x.m
    LEFT JOIN buckets o ON o.m = x.po_m AND o.period = b.period
    WHERE x.has_po AND x.amount_rep IS NOT NULL
),
parts AS (
    SELECT period{dims},
           CASE WHEN invoiced THEN 0.0 ELSE -value_rep END AS orders_not_invoiced,
           CASE WHEN invoiced THEN -value_rep ELSE 0.0 END AS invoice_vs_order,
           0.0 AS earlier_orders, 0.0 AS unknown_orders
    FROM po
    UNION ALL
    SELECT period{dims}, 0.0,
           CASE WHEN po_found AND same_period THEN amount_rep ELSE 0.0 END,
           CASE WHEN po_found AND NOT same_period THEN amount_rep ELSE 0.0 END,
           CASE WHEN po_found THEN 0.0 ELSE amount_rep END
    FROM inv
)
-- timing: the two timing effects netted (they mostly offset each other), each part kept as its own column
SELECT period{dims},
       sum(orders_not_invoiced) + sum(earlier_orders) AS timing,
       sum(orders_not_invoiced) AS orders_not_invoiced, sum(invoice_vs_order) AS invoice_vs_order,
       sum(earlier_orders) AS earlier_orders, sum(unknown_orders) AS unknown_orders
FROM parts
GROUP BY period{dims}
