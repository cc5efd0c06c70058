-- Queue time per approval step and role: how long documents waited before each event of the span, credited to
-- the step and role that acted after the wait (median, 90th percentile and the total, in days). A delegation is
-- an event: the wait before it is the delegating approver's, the wait after it the delegate's.
SELECT w.document_type, w.step, w.actor_role, count(*) AS waits, count(DISTINCT w.document_id) AS documents,
       @div(@quantile(w.wait_s, 0.5), 86400) AS median_days, @div(@quantile(w.wait_s, 0.9), 86400) AS p90_days,
       @div(sum(w.wait_s), 86400) AS total_days
FROM fact_waits w
WHERE w.wait_s IS NOT NULL AND w.m IN (SELECT m FROM buckets)
  AND @picked($supplier_id, w.supplier_id)
  AND @picked($category, w.category)
  AND @picked($cost_center, w.cost_center)
GROUP BY ALL
ORDER BY median_days DESC, document_type, step, actor_role
