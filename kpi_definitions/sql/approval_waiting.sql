-- The documents waiting now, longest first: where each stands (its last event, step and who acted) and for how
-- long, in days, up to now: the latest event in the data (the exports' own "now").
WITH now_ AS (SELECT max(event_at) AS t FROM fact_waits)
SELECT d.document_type, d.document_id, d.cost_center, d.category, d.supplier_id, d.amount_rep AS amount,
       d.last_step, d.last_event, d.last_role, d.last_actor, d.last_at AS waiting_since,
       @div(@seconds_between(d.last_at, n.t), 86400) AS days_waiting
FROM fact_documents d, now_ n
WHERE d.state = 'waiting'
  AND @picked($supplier_id, d.supplier_id)
  AND @picked($category, d.category)
  AND @picked($cost_center, d.cost_center)
ORDER BY days_waiting DESC NULLS LAST, d.document_type, d.document_id
LIMIT $limit
