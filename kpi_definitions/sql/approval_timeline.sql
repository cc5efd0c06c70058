-- One document's events in time order, each with the wait before it (hours).
SELECT w.n AS "order", w.seq, w.event_at, w.step, w.event, w.actor, w.actor_role, w.on_behalf_of,
       @div(w.wait_s, 3600) AS waited_hours, w.comment
FROM fact_waits w
WHERE w.document_type = $document_type AND w.document_id = $document_id
ORDER BY w.n
