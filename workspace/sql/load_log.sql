-- The load log, newest first.
SELECT load_id, file_name, export_type, mapping, rows_read, rows_loaded, rows_replaced, rows_quarantined,
       outcome, finished_at, loaded_by, message
FROM load_log ORDER BY load_id DESC
