-- How much the data-quality checks hold: quarantined rows, and cross-file findings with the rows they cover.
SELECT (SELECT count(*) FROM quarantine) AS quarantined,
       (SELECT count(*) FROM dq_findings) AS findings,
       (SELECT coalesce(sum(rows), 0) FROM dq_findings) AS finding_rows
