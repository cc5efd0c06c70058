-- From agreed terms (procurement) to days actually taken (finance), weighted by amount over the lines
-- paid in the period: days paid before terms, days paid after terms, and the lines with no agreed terms
-- (their supplier is unknown), which only the finance view can count.
WITH x AS (SELECT * FROM paid_lines WHERE amount_rep IS NOT NULL AND m IN (SELECT m FROM buckets)),
w AS (SELECT sum(amount_rep) AS all_w, sum(amount_rep) FILTER (WHERE agreed_terms IS NOT NULL) AS termed_w FROM x)
SELECT
    (SELECT sum(amount_rep * least(days_taken - agreed_terms, 0)) FROM x) / w.termed_w AS paid_early,
    (SELECT sum(amount_rep * greatest(days_taken - agreed_terms, 0)) FROM x) / w.termed_w AS paid_late,
    (SELECT sum(amount_rep * days_taken) FROM x) / w.all_w
        - (SELECT sum(amount_rep * days_taken) FILTER (WHERE agreed_terms IS NOT NULL) FROM x) / w.termed_w AS no_terms
FROM w
