-- The spend budget of each month of the range for the categories savings initiatives are recorded in, in the
-- reporting currency (sql/base.sql, budget_lines): what the savings forecast is set against.
SELECT b.period, b.m, sum(x.budget_rep) AS budget
FROM buckets b
LEFT JOIN budget_lines x ON x.m = b.m AND x.category IN (SELECT category FROM ledger_initiatives)
GROUP BY b.period, b.m
ORDER BY b.m
