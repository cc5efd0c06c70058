-- From agreed terms (procurement) to days actually taken (finance), weighted by amount over the lines paid in
-- each period of `buckets`, per slice ({dims}): days paid before terms, days paid after terms, and the lines
-- with no agreed terms (their supplier is unknown), which only the finance view can count.
WITH w AS (
    SELECT b.period{dims:x},
           sum(x.amount_rep * least(x.days_taken - x.agreed_terms, 0)) AS early,
           sum(x.amount_rep * greatest(x.days_taken - x.agreed_terms, 0)) AS late,
           sum(x.amount_rep * x.days_taken) AS all_days,
           sum(x.amount_rep * x.days_taken) FILTER (WHERE x.agreed_terms IS NOT NULL) AS termed_days,
           sum(x.amount_rep) AS all_w,
           sum(x.amount_rep) FILTER (WHERE x.agreed_terms IS NOT NULL) AS termed_w
    FROM paid_lines x
    JOIN buckets b ON b.m = x.m
    WHERE x.amount_rep IS NOT NULL
    GROUP BY b.period{dims:x}
)
SELECT period{dims},
       early / nullif(termed_w, 0) AS paid_early,
       late / nullif(termed_w, 0) AS paid_late,
       all_days / nullif(all_w, 0) - termed_days / nullif(termed_w, 0) AS no_terms
FROM w
