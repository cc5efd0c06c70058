-- Like-for-like price change, year over year: a chain-linked monthly price index weighted by spend
-- (a Laspeyres-type link with the earlier month's spend as weights). Items and their monthly prices: as the
-- price_items relation of sql/base.sql defines them. The link of month t, over the items bought in both t − 1 and t:
--   L_t = Σ_i s_i,t−1 × (p_i,t ÷ p_i,t−1) ÷ Σ_i s_i,t−1
-- so an item entering or leaving moves nothing until it is bought in two months running. A month with no
-- item bought in both months has no link and counts as no change. The value of a period ending in month T
-- is the index at T against T − 12:  I_T ÷ I_T−12 − 1 = L_T−11 × … × L_T − 1; null when none of those twelve
-- months has a link. `excluded`: lines of those twelve months with no FX rate.
-- The links are kept at load per month, supplier and category (sql/fact_price_links.sql: Σ s_i,t−1 × p_i,t ÷ p_i,t−1
-- and Σ s_i,t−1 over the items bought in both months): a slice's link is the ratio of their sums over its rows.
WITH monthly AS (
    SELECT m{dims}, @div(sum(num), sum(den)) AS link, sum(unpriced) AS excluded
    FROM fact_price_links
    WHERE m BETWEEN $m_lo AND $m_hi
      AND @picked($supplier_id, supplier_id)
      AND @picked($category, category)
    GROUP BY ALL
),
ends AS (SELECT period, max(m) AS t FROM buckets GROUP BY period)
SELECT e.period{dims},
       CASE WHEN count(x.link) > 0 THEN exp(sum(ln(x.link))) - 1 END AS value,
       coalesce(sum(x.excluded), 0) AS excluded
FROM ends e
LEFT JOIN monthly x ON x.m BETWEEN e.t - 11 AND e.t
GROUP BY ALL
