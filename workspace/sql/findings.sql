-- Data-quality findings across files (unknown references, missing FX rates), largest first.
SELECT export_type, rule, subject, rows, detail FROM dq_findings ORDER BY rows DESC, export_type, subject
