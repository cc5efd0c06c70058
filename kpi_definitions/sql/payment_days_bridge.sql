-- From agreed terms (procurement) to days actually taken (finance), weighted by amount over the lines paid in
-- each period of `buckets`, per slice ({dims}): days paid before terms, days paid after terms, and the lines
-- with no agreed terms (their supplier is unknown), which only the finance view can count (sums kept at load:
-- sql/fact_paid_months.sql).
WITH w AS (
    SELECT b.period{dims:x}, sum(x.early) AS early, sum(x.late) AS late,
           sum(x.taken_days) AS all_days, sum(x.termed_days) AS termed_days,
           sum(x.taken_amount) AS all_w, sum(x.terms_amount) AS termed_w
    FROM paid_months x
    JOIN buckets b ON b.m = x.m
    GROUP BY b.period{dims:x}
)
SELECT period{dims},
       @div(early, termed_w) AS paid_early,
       @div(late, termed_w) AS paid_late,
       @div(all_days, all_w) - @div(termed_days, termed_w) AS no_terms
FROM w
