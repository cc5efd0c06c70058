-- The market's price indices (export price_indices) over the range, as levels rebased to 100 in the first
-- month each index has in the range, with the categories that follow each (export category_index).
WITH x AS (
    SELECT p.index_name, @month_ix(p.period) AS m, p.value
    FROM price_indices p
    WHERE @month_ix(p.period) IN (SELECT m FROM buckets)
)
SELECT b.period, x.m, x.index_name, 100 * @div(x.value, first_value(x.value) OVER (PARTITION BY x.index_name ORDER BY x.m)) AS level,
       (SELECT @join_sorted(c.category, ', ') FROM category_index c
        WHERE c.index_name = x.index_name) AS categories
FROM x JOIN buckets b USING (m)
ORDER BY x.index_name, x.m
