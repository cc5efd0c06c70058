-- Like-for-like price change, year over year: a chain-linked monthly price index weighted by spend
-- (a Laspeyres-type link with the earlier month's spend as weights). Items and their monthly prices: the
-- price_items relation (sql/base.sql). The link of month t, over the items bought in both t − 1 and t:
--   L_t = Σ_i s_i,t−1 × (p_i,t ÷ p_i,t−1) ÷ Σ_i s_i,t−1
-- so an item entering or leaving moves nothing until it is bought in two months running. A month with no
-- item bought in both months has no link and counts as no change. The value of a period ending in month T
-- is the index at T against T − 12:  I_T ÷ I_T−12 − 1 = L_T−11 × … × L_T − 1; null when none of those twelve
-- months has a link. `excluded`: lines of those twelve months with no FX rate.
WITH links AS (
    SELECT b.m{dims}, @div(sum(a.spend0 * @div(@div(b.spend, b.qty), @div(a.spend0, a.qty0))), sum(a.spend0)) AS link
    FROM price_items b
    JOIN (SELECT m + 1 AS m1, k AS k0, spend AS spend0, qty AS qty0 FROM price_items) a
      ON a.k0 = b.k AND a.m1 = b.m AND b.spend IS NOT NULL AND a.spend0 IS NOT NULL  -- both months priced
    GROUP BY ALL
),
monthly AS (
    SELECT m{dims}, link, 0 AS excluded FROM links
    UNION ALL  -- a slice with prices but no link yet: shown, not computable; lines without a rate counted
    SELECT m{dims}, CAST(NULL AS DOUBLE) AS link, sum(unpriced) AS excluded FROM price_items GROUP BY ALL
),
ends AS (SELECT period, max(m) AS t FROM buckets GROUP BY period)
SELECT e.period{dims},
       CASE WHEN count(x.link) > 0 THEN exp(sum(ln(x.link))) - 1 END AS value,
       coalesce(sum(x.excluded), 0) AS excluded
FROM ends e
LEFT JOIN monthly x ON x.m BETWEEN e.t - 11 AND e.t
GROUP BY ALL
