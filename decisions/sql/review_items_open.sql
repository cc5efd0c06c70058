-- Notes, decisions and actions not closed yet, from every review, oldest due date first.
SELECT i.item_id, strftime(r.held_on, '%Y-%m-%d') AS review, i.kpi, i.kind, i.text, i.owner,
       strftime(i.due_date, '%Y-%m-%d') AS due_date, i.status, i.created_at
FROM review_items i JOIN reviews r USING (review_id)
WHERE i.status = 'open'
ORDER BY i.due_date NULLS LAST, i.item_id
