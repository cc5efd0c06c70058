-- From negotiated savings (procurement) to the year-over-year drop in spend (finance), over the months
-- in `buckets` and the same months a year earlier. Price-volume convention, per unit of comparison on
-- invoice lines with a quantity (p = spend ÷ quantity of the unit in the span; 0 = a year earlier, 1 = now):
--   price effect  = (p0 − p1) × q1   (at this year's quantity: the price × volume interaction is here)
--   volume effect = (q0 − q1) × p0   (at last year's price)
-- so price + volume = spend0 − spend1 for every unit bought in both years.
-- The unit of comparison is the line's item, else its PO line's item, else (a line on a PO line) the
-- supplier's unit in the line's category: the PO line's unit price says what one unit is. A line without a
-- quantity takes it from its PO line: its amount at the PO line's unit price (in the documents' currency when
-- both have the same one, else in the reporting currency), so its price is the PO line's.
WITH cur AS (SELECT m FROM buckets),
po AS (
    SELECT x.*, EXISTS (SELECT 1 FROM invoices i
                        WHERE i.po_id = x.po_id AND i.po_line = x.po_line
                          AND month_ix(i.invoice_date) IN (SELECT m FROM cur)) AS invoiced
    FROM po_lines x
    WHERE x.on_contract AND x.savings_rep IS NOT NULL AND x.m IN (SELECT m FROM cur)
),
-- Lines missing an item or a quantity, with what their PO line gives (never a cancelled one: fact_po holds the
-- lines that count). Lines with both of their own need nothing of their PO line and skip this join.
needy AS (
    SELECT x.m IN (SELECT m FROM cur) AS now, x.amount_rep,
           coalesce(x.item_id, p.item_id) AS item_id,
           -- no item anywhere, but a PO line: the supplier's unit in the category (NULL otherwise)
           CASE WHEN x.item_id IS NULL AND p.po_id IS NOT NULL AND p.item_id IS NULL THEN x.supplier_id END AS unit_supplier,
           CASE WHEN x.item_id IS NULL AND p.po_id IS NOT NULL AND p.item_id IS NULL THEN x.category END AS unit_category,
           CASE WHEN x.quantity IS NOT NULL THEN x.quantity
                WHEN p.unit_price > 0 AND x.currency = p.currency THEN x.amount / p.unit_price
                WHEN p.unit_price > 0 THEN x.amount_rep / (p.value_rep / p.quantity)
           END AS quantity
    FROM invoice_lines x
    LEFT JOIN fact_po p ON p.po_id = x.po_id AND p.po_line = x.po_line
    WHERE x.amount_rep IS NOT NULL AND (x.m IN (SELECT m FROM cur) OR x.m + 12 IN (SELECT m FROM cur))
      AND (x.item_id IS NULL OR x.quantity IS NULL)
),
item_lines AS (  -- lines with an item and a quantity: their own, or their PO line's
    SELECT x.m IN (SELECT m FROM cur) AS now, x.amount_rep, x.item_id, x.quantity
    FROM invoice_lines x
    WHERE x.amount_rep IS NOT NULL AND (x.m IN (SELECT m FROM cur) OR x.m + 12 IN (SELECT m FROM cur))
      AND x.item_id IS NOT NULL AND x.quantity IS NOT NULL
    UNION ALL
    SELECT now, amount_rep, item_id, quantity FROM needy WHERE item_id IS NOT NULL AND quantity IS NOT NULL
),
units AS (  -- per unit of comparison: an item, or a supplier's unit in a category
    SELECT coalesce(sum(quantity) FILTER (WHERE NOT now), 0) AS q0, coalesce(sum(amount_rep) FILTER (WHERE NOT now), 0) AS s0,
           coalesce(sum(quantity) FILTER (WHERE now), 0) AS q1, coalesce(sum(amount_rep) FILTER (WHERE now), 0) AS s1,
           count(*) FILTER (WHERE NOT now) AS n0, count(*) FILTER (WHERE now) AS n1,
           item_id IN (SELECT item_id FROM po WHERE item_id IS NOT NULL) AS contracted
    FROM item_lines
    GROUP BY item_id
    UNION ALL
    SELECT coalesce(sum(quantity) FILTER (WHERE NOT now), 0), coalesce(sum(amount_rep) FILTER (WHERE NOT now), 0),
           coalesce(sum(quantity) FILTER (WHERE now), 0), coalesce(sum(amount_rep) FILTER (WHERE now), 0),
           count(*) FILTER (WHERE NOT now), count(*) FILTER (WHERE now),
           (unit_supplier, unit_category) IN (SELECT (supplier_id, category) FROM po WHERE item_id IS NULL)
    FROM needy WHERE item_id IS NULL AND unit_supplier IS NOT NULL AND quantity IS NOT NULL
    GROUP BY unit_supplier, unit_category
),
effects AS (
    SELECT CASE WHEN q0 > 0 AND q1 > 0 THEN s0 / q0 * q1 - s1 END AS price,
           CASE WHEN q0 > 0 AND q1 > 0 THEN s0 - s0 / q0 * q1 END AS volume,
           CASE WHEN n0 = 0 OR n1 = 0 THEN s0 - s1 END AS mix,
           CASE WHEN n0 > 0 AND n1 > 0 AND NOT (q0 > 0 AND q1 > 0) THEN s0 - s1 END AS other,
           contracted
    FROM units
)
SELECT
    -coalesce((SELECT sum(savings_rep) FROM po WHERE savings_type = 'cost_avoidance'), 0) AS cost_avoidance,
    -coalesce((SELECT sum(savings_rep) FROM po WHERE savings_type = 'price_reduction' AND NOT invoiced), 0)
        AS not_yet_invoiced,
    coalesce((SELECT sum(price) FROM effects WHERE contracted), 0)
        - coalesce((SELECT sum(savings_rep) FROM po WHERE savings_type = 'price_reduction' AND invoiced), 0)
        AS contracted_price,
    coalesce((SELECT sum(price) FROM effects WHERE NOT contracted), 0) AS uncontracted_price,
    coalesce((SELECT sum(volume) FROM effects), 0) AS volume,
    coalesce((SELECT sum(mix) FROM effects), 0) AS mix,
    coalesce((SELECT sum(other) FROM effects), 0)
        + (SELECT coalesce(sum(amount_rep) FILTER (WHERE NOT now), 0) - coalesce(sum(amount_rep) FILTER (WHERE now), 0)
           FROM needy WHERE (item_id IS NULL AND unit_supplier IS NULL) OR quantity IS NULL) AS without_quantities
