-- Funds available: the budget of the period less what holds it, each line dated by {month} (m_fin: finance,
-- by its document's date, pending requisitions not counted; m_proc: procurement, commitments by their approval,
-- pending requisitions by their submission). Null without a budget row for the period and slice; null too when
-- lines hold the budget but none of them converts (no FX rate): never 0.
WITH use_by_month AS (  -- summed per month first, then per period
    SELECT x.{month} AS m{dims}, sum(x.amount) AS used, sum(x.lines) AS lines, sum(x.unconverted) AS excluded
    FROM funds_use x
    WHERE x.{month} IS NOT NULL
    GROUP BY ALL
),
used AS (
    SELECT b.period{dims}, sum(x.used) AS used, coalesce(sum(x.lines), 0) AS lines,
           coalesce(sum(x.excluded), 0) AS excluded
    FROM buckets b LEFT JOIN use_by_month x ON x.m = b.m
    GROUP BY ALL
),
budget AS (
    SELECT b.period{dims}, sum(x.budget_rep) AS budget, count(x.m) AS budget_rows,
           count(x.m) FILTER (WHERE x.budget_rep IS NULL) AS excluded
    FROM buckets b LEFT JOIN budget_lines x ON x.m = b.m
    GROUP BY ALL
)
SELECT period{dims},
       CASE WHEN g.budget_rows > 0 AND g.budget IS NOT NULL AND NOT (coalesce(u.lines, 0) > 0 AND u.used IS NULL)
            THEN g.budget - coalesce(u.used, 0) END AS value,
       coalesce(u.excluded, 0) + coalesce(g.excluded, 0) AS excluded
FROM used u FULL JOIN budget g USING (period{dims})
