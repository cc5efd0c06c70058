-- The items behind the price index change of the span: each item's share of the twelve monthly links up to
-- the span's end (Σ_t w_i,t × (p_i,t ÷ p_i,t−1 − 1), w = its spend share in month t − 1), largest first.
WITH ends AS (SELECT max(m) AS t FROM buckets),
window_items AS (
    SELECT * FROM price_items WHERE m BETWEEN (SELECT t FROM ends) - 12 AND (SELECT t FROM ends)
),
terms AS (
    SELECT b.supplier_id, b.item_id, b.m,
           @div(a.spend0 * (@div(@div(b.spend, b.qty), @div(a.spend0, a.qty0)) - 1),
                sum(a.spend0) OVER (PARTITION BY b.m)) AS contribution
    FROM window_items b
    JOIN (SELECT m + 1 AS m1, k AS k0, spend AS spend0, qty AS qty0 FROM window_items) a
      ON a.k0 = b.k AND a.m1 = b.m AND b.spend IS NOT NULL AND a.spend0 IS NOT NULL  -- both months priced
),
items AS (
    SELECT supplier_id, item_id, any_value(category) AS category, sum(spend) AS spend, sum(qty) AS quantity,
           @first_by(@div(spend, qty), m) AS first_price, @last_by(@div(spend, qty), m) AS last_price,
           @month_label(min(m)) AS first_month, @month_label(max(m)) AS last_month
    FROM window_items WHERE spend IS NOT NULL GROUP BY ALL
)
SELECT * FROM (
SELECT i.supplier_id, i.item_id, i.category, i.first_month, i.last_month, i.first_price, i.last_price,
       @div(i.last_price, i.first_price) - 1 AS price_change, i.quantity, i.spend,
       count(t.m) AS months_compared, coalesce(sum(t.contribution), 0) AS contribution
FROM items i
LEFT JOIN terms t ON t.supplier_id = i.supplier_id AND t.item_id = i.item_id
GROUP BY ALL
)
ORDER BY abs(contribution) DESC, spend DESC, supplier_id, item_id
