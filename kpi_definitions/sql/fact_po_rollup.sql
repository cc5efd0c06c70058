-- The PO lines' monthly sums (sql/fact_po_months.sql) rolled up over the suppliers, as
-- sql/fact_invoice_rollup.sql.
SELECT m, CAST(NULL AS VARCHAR) AS supplier_id, category, cost_center,
       sum(lines)::BIGINT AS lines, sum(unconverted)::BIGINT AS unconverted, sum(value) AS value
FROM fact_po_months
GROUP BY m, category, cost_center
