-- The price index's monthly links, kept at load (sql/price_finance.sql sums them; the algebra is there): for each
-- month t and each supplier and category, over the items (item_id bought from one supplier, as in the
-- price_items relation of sql/base.sql) priced in both t − 1 and t:
--   num = Σ s_i,t−1 × (p_i,t ÷ p_i,t−1)    den = Σ s_i,t−1
-- so the link of any slice (a supplier, a category, both, all) is Σ num ÷ Σ den over its rows: a request reads
-- months × slices rows instead of joining every item-month to the month before (60-100 ms at 10M lines). An
-- item's supplier and category are those of month t (its category: one of its lines' in that month).
-- `unpriced`: the items' lines of month t with no FX rate. Rows for every supplier and category priced in t,
-- linked or not (num and den NULL: no item in common with t − 1).
-- {where}: the months to build on `m` (`true` for all); {before}: the same on `m + 1` (the months before them).
WITH items AS (
    SELECT m, @hash(supplier_id, item_id) AS k, any_value(supplier_id) AS supplier_id,
           any_value(category) AS category, sum(spend) AS spend, sum(qty) AS qty, sum(unpriced) AS unpriced
    FROM fact_prices
    WHERE priced_lines > 0 AND ({where} OR {before})
    GROUP BY m, k
)
SELECT b.m, b.supplier_id, b.category,
       sum(a.spend * @div(@div(b.spend, b.qty), @div(a.spend, a.qty))) AS num,
       sum(a.spend) AS den,
       sum(b.unpriced) AS unpriced
FROM (SELECT * FROM items WHERE {where}) b
LEFT JOIN items a ON a.k = b.k AND a.m + 1 = b.m AND b.spend IS NOT NULL AND a.spend IS NOT NULL
GROUP BY b.m, b.supplier_id, b.category
