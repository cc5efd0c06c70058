-- Per category of spend that follows a market index (category_index): the index's change over the year
-- to the span's last month T, value_T ÷ value_T−12 − 1 (null without both months), and the spend of the
-- span in the reporting currency (invoice lines by invoice date).
WITH t AS (SELECT max(m) AS t FROM buckets),
change AS (
    SELECT c.category, c.index_name,
           @div(max(p.value) FILTER (WHERE @month_ix(p.period) = (SELECT t FROM t)),
                max(p.value) FILTER (WHERE @month_ix(p.period) = (SELECT t FROM t) - 12)) - 1 AS market_change
    FROM category_index c
    LEFT JOIN price_indices p ON p.index_name = c.index_name
    WHERE @picked($category, c.category)
    GROUP BY ALL
),
spend AS (
    SELECT category, sum(spend) AS spend FROM invoice_months WHERE m IN (SELECT m FROM buckets) GROUP BY ALL
)
SELECT c.category, c.index_name, c.market_change, coalesce(s.spend, 0) AS spend
FROM change c LEFT JOIN spend s USING (category)
ORDER BY c.category
