-- Data-quality findings the review with id $1 did not see.
SELECT f.export_type, f.rule, f.subject, f.rows, f.detail
FROM dq_findings f
ANTI JOIN (SELECT * FROM review_findings WHERE review_id = $1) r USING (export_type, rule, subject)
ORDER BY f.export_type, f.rule, f.subject
