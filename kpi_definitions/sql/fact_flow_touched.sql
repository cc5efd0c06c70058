-- The documents a load of invoices touched, whose flow facts it rebuilds (kpi_definitions/flow.py
-- `update_invoices`, the scoped sql/fact_flow.sql): the invoices it holds a line of, the orders those lines are on,
-- and the other invoices on those orders whose first-time match can change. An invoice line's match reads the
-- quantity invoiced on its PO line so far (in invoice date order), so a new line changes the lines of its order
-- dated on or after it; an invoice the load replaced lines of may have moved them anywhere in that order, so for
-- its orders every invoice counts. A replaced line that left an order the load does not touch is found by the
-- line count of fact_po_invoiced afterwards, and the facts are then rebuilt whole.
CREATE OR REPLACE TEMP TABLE _t_new AS
SELECT invoice_id, invoice_date, po_id, po_found
FROM fact_invoices WHERE _load_id = (SELECT max(_load_id) FROM fact_invoices);

CREATE OR REPLACE TEMP TABLE _t_po AS  -- from_date NULL: every invoice of the order
SELECT n.po_id,
       CASE WHEN bool_or(d.document_id IS NOT NULL) THEN NULL ELSE min(n.invoice_date) END AS from_date
FROM _t_new n
LEFT JOIN fact_documents d ON d.document_type = 'invoice' AND d.document_id = n.invoice_id
WHERE n.po_found
GROUP BY n.po_id;

CREATE OR REPLACE TEMP TABLE _t_inv AS
SELECT invoice_id FROM _t_new
UNION
SELECT i.invoice_id FROM fact_invoices i JOIN _t_po t ON t.po_id = i.po_id
WHERE i.po_found AND (t.from_date IS NULL OR i.invoice_date >= t.from_date);

DROP TABLE _t_new
