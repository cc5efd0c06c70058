-- Reviews held, latest first.
SELECT review_id, held_on, started_at, period FROM reviews ORDER BY review_id DESC
