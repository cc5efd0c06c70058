-- Spend ({spend}) − budget, and that ÷ budget. Null when the slice has no budget row for the period;
-- the percentage is null when the budget is 0. Null too when the slice has budget rows, or spend lines,
-- but none of them converts to the reporting currency (no fx rate): that side is not computable, so
-- neither is the value (never 0). Partly converted: the converted rows' value, the others in `excluded`.
WITH spend_by_month AS (  -- per month (as kept at load: sql/fact_invoice_months.sql, fact_po_months.sql), then per period
    SELECT x.m{dims}, sum(x.amount) AS spend, sum(x.lines) AS lines, sum(x.unconverted) AS excluded
    FROM {spend} x
    GROUP BY ALL
),
spend AS (
    SELECT b.period{dims}, sum(x.spend) AS spend, coalesce(sum(x.lines), 0) AS lines,
           coalesce(sum(x.excluded), 0) AS excluded
    FROM buckets b LEFT JOIN spend_by_month x ON x.m = b.m
    GROUP BY ALL
),
budget AS (
    SELECT b.period{dims}, sum(x.budget_rep) AS budget, count(x.m) AS budget_rows,
           count(x.m) FILTER (WHERE x.budget_rep IS NULL) AS excluded
    FROM buckets b LEFT JOIN budget_lines x ON x.m = b.m
    GROUP BY ALL
)
SELECT period{dims},
       CASE WHEN g.budget_rows > 0 AND g.budget IS NOT NULL AND NOT (coalesce(s.lines, 0) > 0 AND s.spend IS NULL)
            THEN coalesce(s.spend, 0) - g.budget END AS value,
       CASE WHEN g.budget_rows > 0 AND coalesce(g.budget, 0) <> 0 AND NOT (coalesce(s.lines, 0) > 0 AND s.spend IS NULL)
            THEN @div(coalesce(s.spend, 0) - g.budget, g.budget) END AS value_pct,
       coalesce(s.excluded, 0) + coalesce(g.excluded, 0) AS excluded
FROM spend s FULL JOIN budget g USING (period{dims})
