-- Quarantined rows with the rule each broke, newest load first.
SELECT load_id, file_name, export_type, line, column_name, rule, value, record
FROM quarantine ORDER BY load_id DESC, line LIMIT 5000
