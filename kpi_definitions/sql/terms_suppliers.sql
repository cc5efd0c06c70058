-- Payment terms per supplier over invoice lines with a positive amount paid in months $m_lo..$m_hi
-- (reporting currency): spend, the amount-weighted days actually taken and agreed, the spend whose agreed
-- terms are below $new_terms (the lines a change to $new_terms would push beyond what was agreed), and the
-- amount-days paid before terms. Lines with no FX rate or no days are left out and counted.
SELECT x.supplier_id,
       any_value(s.supplier_name) AS supplier_name,
       any_value(x.category) AS category,
       sum(x.amount_rep) FILTER (WHERE x.days_taken IS NOT NULL) AS spend,
       sum(x.amount_rep * x.days_taken) AS amount_days,
       sum(x.amount_rep * x.agreed_terms) AS amount_agreed_days,
       sum(x.amount_rep) FILTER (WHERE x.agreed_terms IS NOT NULL) AS spend_with_terms,
       sum(x.amount_rep) FILTER (WHERE x.agreed_terms < $new_terms) AS spend_beyond_terms,
       sum(x.amount_rep * greatest(x.agreed_terms - x.days_taken, 0)) AS amount_days_early,
       count(*) FILTER (WHERE x.amount_rep IS NULL OR x.days_taken IS NULL) AS excluded
FROM fact_invoices x
LEFT JOIN suppliers s ON s.supplier_id = x.supplier_id
WHERE x.amount > 0 AND x.paid_date IS NOT NULL AND x.paid_m BETWEEN $m_lo AND $m_hi
GROUP BY x.supplier_id
ORDER BY x.supplier_id
