-- From negotiated savings (procurement) to the year-over-year drop in spend (finance), per period of `buckets`
-- (its months and the same months a year earlier) and slice ({dims}). Price-volume convention, per unit of
-- comparison on invoice lines with a quantity (p = spend ÷ quantity of the unit in the period; 0 = a year
-- earlier, 1 = now):
--   price effect  = (p0 − p1) × q1   (at this year's quantity: the price × volume interaction is here)
--   volume effect = (q0 − q1) × p0   (at last year's price)
-- so price + volume = spend0 − spend1 for every unit bought in both years.
-- The unit of comparison is the line's item, else its PO line's item, else (a line on a PO line) the
-- supplier's unit in the line's category: the PO line's unit price says what one unit is. A line without a
-- quantity takes it from its PO line: its amount at the PO line's unit price (in the documents' currency when
-- both have the same one, else in the reporting currency), so its price is the PO line's.
WITH sides AS (  -- each month of a period (now) and the same month a year earlier, with the period
    SELECT m, period, true AS now FROM buckets
    UNION ALL
    SELECT m - 12, period, false FROM buckets
),
invoiced AS (  -- the PO lines some invoice line (of any slice) invoices in each period
    SELECT DISTINCT b.period, i.po_id, i.po_line
    FROM fact_invoices i
    JOIN buckets b ON b.m = i.m
    WHERE i.po_id IS NOT NULL AND i.m BETWEEN $m_lo AND $m_hi
),
po AS (  -- PO lines of the period with negotiated savings on a valid contract
    SELECT b.period{dims:x}, x.savings_type, x.savings_rep, x.item_id, x.supplier_id AS unit_supplier,
           x.category AS unit_category, v.po_id IS NOT NULL AS invoiced
    FROM po_lines x
    JOIN buckets b ON b.m = x.m
    LEFT JOIN invoiced v ON v.period = b.period AND v.po_id = x.po_id AND v.po_line = x.po_line
    WHERE x.on_contract AND x.savings_rep IS NOT NULL
),
-- Lines missing an item or a quantity, with what their PO line gives (never a cancelled one: fact_po holds the
-- lines that count). Lines with both of their own need nothing of their PO line and skip this join.
needy AS (
    SELECT s.period, s.now{dims:x}, x.amount_rep,
           coalesce(x.item_id, p.item_id) AS item_id,
           -- no item anywhere, but a PO line: the supplier's unit in the category (NULL otherwise)
           CASE WHEN x.item_id IS NULL AND p.po_id IS NOT NULL AND p.item_id IS NULL THEN x.supplier_id END AS unit_supplier,
           CASE WHEN x.item_id IS NULL AND p.po_id IS NOT NULL AND p.item_id IS NULL THEN x.category END AS unit_category,
           CASE WHEN x.quantity IS NOT NULL THEN x.quantity
                WHEN p.unit_price > 0 AND x.currency = p.currency THEN @div(x.amount, p.unit_price)
                WHEN p.unit_price > 0 THEN @div(x.amount_rep, @div(p.value_rep, p.quantity))
           END AS quantity
    FROM invoice_lines x
    JOIN sides s ON s.m = x.m
    LEFT JOIN fact_po p ON p.po_id = x.po_id AND p.po_line = x.po_line
    WHERE x.amount_rep IS NOT NULL AND (x.item_id IS NULL OR x.quantity IS NULL)
),
item_lines AS (  -- lines with an item and a quantity: their own, or their PO line's
    SELECT s.period, s.now{dims:x}, x.amount_rep, x.item_id, x.quantity
    FROM invoice_lines x
    JOIN sides s ON s.m = x.m
    WHERE x.amount_rep IS NOT NULL AND x.item_id IS NOT NULL AND x.quantity IS NOT NULL
    UNION ALL
    SELECT period, now{dims}, amount_rep, item_id, quantity FROM needy WHERE item_id IS NOT NULL AND quantity IS NOT NULL
),
po_items AS (SELECT DISTINCT period{dims}, item_id, true AS contracted FROM po WHERE item_id IS NOT NULL),
po_units AS (
    SELECT DISTINCT period{dims}, unit_supplier, unit_category, true AS contracted FROM po WHERE item_id IS NULL
),
units AS (  -- per period, slice and unit of comparison: an item, or a supplier's unit in a category
    SELECT period{dims}, item_id, NULL AS unit_supplier, NULL AS unit_category,
           coalesce(sum(quantity) FILTER (WHERE NOT now), 0) AS q0, coalesce(sum(amount_rep) FILTER (WHERE NOT now), 0) AS s0,
           coalesce(sum(quantity) FILTER (WHERE now), 0) AS q1, coalesce(sum(amount_rep) FILTER (WHERE now), 0) AS s1,
           count(*) FILTER (WHERE NOT now) AS n0, count(*) FILTER (WHERE now) AS n1
    FROM item_lines
    GROUP BY period{dims}, item_id
    UNION ALL
    SELECT period{dims}, NULL, unit_supplier, unit_category,
           coalesce(sum(quantity) FILTER (WHERE NOT now), 0), coalesce(sum(amount_rep) FILTER (WHERE NOT now), 0),
           coalesce(sum(quantity) FILTER (WHERE now), 0), coalesce(sum(amount_rep) FILTER (WHERE now), 0),
           count(*) FILTER (WHERE NOT now), count(*) FILTER (WHERE now)
    FROM needy WHERE item_id IS NULL AND unit_supplier IS NOT NULL AND quantity IS NOT NULL
    GROUP BY period{dims}, unit_supplier, unit_category
),
effects AS (
    SELECT u.period{dims:u},
           coalesce(i.contracted, c.contracted, false) AS contracted,
           CASE WHEN u.q0 > 0 AND u.q1 > 0 THEN @div(u.s0, u.q0) * u.q1 - u.s1 END AS price,
           CASE WHEN u.q0 > 0 AND u.q1 > 0 THEN u.s0 - @div(u.s0, u.q0) * u.q1 END AS volume,
           CASE WHEN u.n0 = 0 OR u.n1 = 0 THEN u.s0 - u.s1 END AS mix,
           CASE WHEN u.n0 > 0 AND u.n1 > 0 AND NOT (u.q0 > 0 AND u.q1 > 0) THEN u.s0 - u.s1 END AS other
    FROM units u
    LEFT JOIN po_items i USING (period{dims}, item_id)
    LEFT JOIN po_units c USING (period{dims}, unit_supplier, unit_category)
),
parts AS (  -- each line's, PO line's or unit's share of each step
    SELECT period{dims},
           CASE WHEN savings_type = 'cost_avoidance' THEN -savings_rep ELSE 0.0 END AS cost_avoidance,
           CASE WHEN savings_type = 'price_reduction' AND NOT invoiced THEN -savings_rep ELSE 0.0 END AS not_yet_invoiced,
           CASE WHEN savings_type = 'price_reduction' AND invoiced THEN -savings_rep ELSE 0.0 END AS contracted_price,
           0.0 AS uncontracted_price, 0.0 AS volume, 0.0 AS mix, 0.0 AS without_quantities
    FROM po
    UNION ALL
    SELECT period{dims}, 0.0, 0.0,
           CASE WHEN contracted THEN coalesce(price, 0.0) ELSE 0.0 END,
           CASE WHEN contracted THEN 0.0 ELSE coalesce(price, 0.0) END,
           coalesce(volume, 0.0), coalesce(mix, 0.0), coalesce(other, 0.0)
    FROM effects
    UNION ALL
    SELECT period{dims}, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, CASE WHEN now THEN -amount_rep ELSE amount_rep END
    FROM needy WHERE (item_id IS NULL AND unit_supplier IS NULL) OR quantity IS NULL
)
SELECT period{dims},
       sum(cost_avoidance) AS cost_avoidance, sum(not_yet_invoiced) AS not_yet_invoiced,
       sum(contracted_price) AS contracted_price, sum(uncontracted_price) AS uncontracted_price,
       sum(volume) AS volume, sum(mix) AS mix, sum(without_quantities) AS without_quantities
FROM parts
GROUP BY period{dims}
