-- Notes, decisions and actions not closed yet, from every review, oldest due date first.
SELECT i.item_id, r.held_on AS review, i.kpi, i.kind, i.text, i.owner, i.due_date, i.status, i.created_at
FROM review_items i JOIN reviews r USING (review_id)
WHERE i.status = 'open'
ORDER BY i.due_date NULLS LAST, i.item_id
