-- Invoice lines with a positive amount summed per month they were paid in and slice (supplier, category, cost
-- center) when they are loaded: what payment days and its bridge sum (sql/payment_days.sql,
-- payment_days_bridge.sql), amount-weighted days taken and agreed terms. {where}: the paid months to build.
SELECT paid_m AS m, supplier_id, category, cost_center,
       count(*) AS lines,
       sum(amount_rep * days_taken) AS taken_days,
       sum(amount_rep) FILTER (WHERE days_taken IS NOT NULL) AS taken_amount,
       count(*) FILTER (WHERE amount_rep IS NULL OR days_taken IS NULL) AS taken_excluded,
       sum(amount_rep * agreed_terms) AS terms_days,
       sum(amount_rep) FILTER (WHERE agreed_terms IS NOT NULL) AS terms_amount,
       count(*) FILTER (WHERE amount_rep IS NULL OR agreed_terms IS NULL) AS terms_excluded,
       -- the bridge: days paid before and after terms, and the days taken on the lines with terms
       sum(amount_rep * least(days_taken - agreed_terms, 0)) FILTER (WHERE agreed_terms IS NOT NULL) AS early,
       sum(amount_rep * greatest(days_taken - agreed_terms, 0)) FILTER (WHERE agreed_terms IS NOT NULL) AS late,
       sum(amount_rep * days_taken) FILTER (WHERE agreed_terms IS NOT NULL) AS termed_days
FROM fact_invoices
WHERE amount > 0 AND paid_date IS NOT NULL AND paid_m IS NOT NULL AND ({where})
GROUP BY paid_m, supplier_id, category, cost_center
