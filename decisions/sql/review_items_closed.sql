-- Notes, decisions and actions closed, from every review, the most recently closed first: the meeting's history.
SELECT i.item_id, strftime(r.held_on, '%Y-%m-%d') AS review, i.kpi, i.kind, i.text, i.owner,
       strftime(i.due_date, '%Y-%m-%d') AS due_date, strftime(i.closed_at, '%Y-%m-%d %H:%M') AS closed_at
FROM review_items i JOIN reviews r USING (review_id)
WHERE i.status = 'closed'
ORDER BY i.closed_at DESC, i.item_id DESC
LIMIT 200
