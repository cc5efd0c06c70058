-- From negotiated savings (procurement) to the year-over-year drop in spend (finance), over the months
-- in `buckets` and the same months a year earlier. Price-volume convention, per item on invoice lines
-- with an item and a quantity (p = spend ÷ quantity of the item in the span; 0 = a year earlier, 1 = now):
--   price effect  = (p0 − p1) × q1   (at this year's quantity: the price × volume interaction is here)
--   volume effect = (q0 − q1) × p0   (at last year's price)
-- so price + volume = spend0 − spend1 for every item bought in both years.
WITH cur AS (SELECT m FROM buckets),
po AS (
    SELECT x.*, EXISTS (SELECT 1 FROM invoices i
                        WHERE i.po_id = x.po_id AND i.po_line = x.po_line
                          AND month_ix(i.invoice_date) IN (SELECT m FROM cur)) AS invoiced
    FROM po_lines x
    WHERE x.on_contract AND x.savings_rep IS NOT NULL AND x.m IN (SELECT m FROM cur)
),
lines AS (
    SELECT x.m IN (SELECT m FROM cur) AS now, x.item_id, x.quantity, x.amount_rep
    FROM invoice_lines x
    WHERE x.amount_rep IS NOT NULL AND (x.m IN (SELECT m FROM cur) OR x.m + 12 IN (SELECT m FROM cur))
),
items AS (
    SELECT item_id,
           coalesce(sum(quantity) FILTER (WHERE NOT now), 0) AS q0, coalesce(sum(amount_rep) FILTER (WHERE NOT now), 0) AS s0,
           coalesce(sum(quantity) FILTER (WHERE now), 0) AS q1, coalesce(sum(amount_rep) FILTER (WHERE now), 0) AS s1,
           count(*) FILTER (WHERE NOT now) AS n0, count(*) FILTER (WHERE now) AS n1,
           item_id IN (SELECT item_id FROM po WHERE item_id IS NOT NULL) AS contracted
    FROM lines WHERE item_id IS NOT NULL AND quantity IS NOT NULL
    GROUP BY item_id
),
effects AS (
    SELECT CASE WHEN q0 > 0 AND q1 > 0 THEN s0 / q0 * q1 - s1 END AS price,
           CASE WHEN q0 > 0 AND q1 > 0 THEN s0 - s0 / q0 * q1 END AS volume,
           CASE WHEN n0 = 0 OR n1 = 0 THEN s0 - s1 END AS mix,
           CASE WHEN n0 > 0 AND n1 > 0 AND NOT (q0 > 0 AND q1 > 0) THEN s0 - s1 END AS other,
           contracted
    FROM items
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
           FROM lines WHERE item_id IS NULL OR quantity IS NULL) AS without_quantities
