-- The paid lines' monthly sums (sql/fact_paid_months.sql) rolled up over the suppliers, as
-- sql/fact_invoice_rollup.sql. {where}: the paid months to build.
SELECT m, CAST(NULL AS VARCHAR) AS supplier_id, category, cost_center,
       sum(lines)::BIGINT AS lines, sum(taken_days) AS taken_days, sum(taken_amount) AS taken_amount,
       sum(taken_excluded)::BIGINT AS taken_excluded, sum(terms_days) AS terms_days,
       sum(terms_amount) AS terms_amount, sum(terms_excluded)::BIGINT AS terms_excluded,
       sum(early) AS early, sum(late) AS late, sum(termed_days) AS termed_days
FROM fact_paid_months
WHERE {where}
GROUP BY m, category, cost_center
