-- The documents a load of invoices touched, whose flow facts it rebuilds (kpi_definitions/flow.py
-- `update_invoices`, the scoped sql/fact_flow.sql): the invoices it holds a line of, the orders those lines are on,
-- and the other invoices on those orders whose first-time match can change. An invoice line's match reads the
-- quantity invoiced on its PO line so far (in invoice date order), so a new line changes the lines of its order
-- dated on or after it; an invoice the load replaced lines of may have moved them anywhere in that order, so for
-- its orders every invoice counts. A replaced line that left an order the load does not touch is found by the
-- line count of fact_po_invoiced afterwards, and the facts are then rebuilt whole.
-- A load that only adds invoices, each line dated after every invoice already on its PO line (`_t_append`: a
-- monthly load), changes no older invoice: only its own are touched, and their running sums start from what
-- fact_po_invoiced held ({tail} is then false; kpi_definitions/flow.py).
CREATE OR REPLACE TEMP TABLE _t_new AS
SELECT invoice_id, invoice_date, po_id, po_line, po_found
FROM fact_invoices WHERE _load_id = (SELECT max(_load_id) FROM fact_invoices);

CREATE OR REPLACE TEMP TABLE _t_append AS
SELECT NOT EXISTS (SELECT 1 FROM _t_new n
                   JOIN fact_documents d ON d.document_type = 'invoice' AND d.document_id = n.invoice_id)
       AND NOT EXISTS (SELECT 1 FROM _t_new n
                       JOIN fact_po_invoiced v ON v.po_id = n.po_id AND v.po_line = n.po_line
                       WHERE n.po_found AND n.invoice_date <= v.last_invoiced) AS append;

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
WHERE {tail} AND i.po_found AND (t.from_date IS NULL OR i.invoice_date >= t.from_date);

-- the touched orders' PO lines and receipts ({purchase_orders}, {receipts}), read by several statements
CREATE OR REPLACE TEMP TABLE _t_po_lines AS
SELECT * FROM purchase_orders WHERE po_id IN (SELECT po_id FROM _t_po);

CREATE OR REPLACE TEMP TABLE _t_receipts AS
SELECT * FROM receipts WHERE po_id IN (SELECT po_id FROM _t_po);

-- the load's PO lines as fact_po_invoiced held them (read by an appending load: {prior})
CREATE OR REPLACE TEMP TABLE _t_prior AS
SELECT v.* FROM fact_po_invoiced v WHERE v.po_id IN (SELECT po_id FROM _t_po);

DROP TABLE _t_new
