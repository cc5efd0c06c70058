-- Loads that finished after the review with id $1 started.
SELECT file_name, export_type, outcome, rows_loaded, rows_quarantined, finished_at
FROM load_log WHERE finished_at > (SELECT started_at FROM reviews WHERE review_id = $1)
ORDER BY finished_at DESC
