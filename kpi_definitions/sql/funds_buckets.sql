-- Where the budget of the span goes, per bucket and slice ({dims}), under each view's dating: what finance and
-- procurement count in each bucket, and the budget itself. Each line lands in one bucket; the buckets add up to
-- the budget's use, so budget − the buckets is each view's funds available.
WITH x AS (
    SELECT bucket{dims}, amount, unconverted,  -- per month and slice (sql/base.sql funds_use)
           coalesce(m_fin IN (SELECT m FROM buckets), false) AS fin,
           coalesce(m_proc IN (SELECT m FROM buckets), false) AS proc
    FROM funds_use
)
SELECT bucket{dims}, sum(amount) FILTER (WHERE fin) AS finance, sum(amount) FILTER (WHERE proc) AS procurement,
       CAST(coalesce(sum(unconverted), 0) AS BIGINT) AS excluded
FROM x WHERE fin OR proc
GROUP BY ALL
UNION ALL
SELECT 'budget'{dims}, sum(budget_rep), sum(budget_rep), count(*) FILTER (WHERE budget_rep IS NULL)
FROM budget_lines WHERE m IN (SELECT m FROM buckets)
GROUP BY ALL
