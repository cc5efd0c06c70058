-- After a load of invoices ($load_id): only that load's lines changed, so only their facts are replaced.
DELETE FROM fact_invoices f USING invoices i
WHERE i._load_id = $load_id AND f.invoice_id = i.invoice_id AND f.invoice_line = i.invoice_line;
INSERT INTO fact_invoices SELECT * FROM ({fact_invoices}) WHERE _load_id = $load_id
