-- The store's own tables: every load (load_log), the rows a load filtered out or quarantined with their reason,
-- and the data-quality findings across files. Columns added by later releases are added here too, so a database
-- from before schema_version upgrades by this migration alone.
CREATE SEQUENCE IF NOT EXISTS load_id_seq START 1;
CREATE TABLE IF NOT EXISTS load_log (
    load_id BIGINT PRIMARY KEY, file_name VARCHAR, file_path VARCHAR, content_hash VARCHAR,
    export_type VARCHAR, mapping VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_replaced BIGINT,
    rows_quarantined BIGINT, started_at TIMESTAMP, finished_at TIMESTAMP, outcome VARCHAR, message VARCHAR,
    rows_filtered BIGINT DEFAULT 0, loaded_by VARCHAR);
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS rows_filtered BIGINT DEFAULT 0;
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS loaded_by VARCHAR;
CREATE TABLE IF NOT EXISTS filtered (
    load_id BIGINT, file_name VARCHAR, export_type VARCHAR, line BIGINT, reason VARCHAR);
CREATE TABLE IF NOT EXISTS quarantine (
    load_id BIGINT, file_name VARCHAR, export_type VARCHAR, line BIGINT, column_name VARCHAR,
    rule VARCHAR, value VARCHAR, record VARCHAR);
CREATE TABLE IF NOT EXISTS dq_findings (
    export_type VARCHAR, rule VARCHAR, subject VARCHAR, rows BIGINT, detail VARCHAR, found_at TIMESTAMP);
