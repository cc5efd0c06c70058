-- Invoice lines of the span and of the same months a year earlier: the two sides of year-over-year spend.
SELECT CASE WHEN m IN (SELECT m FROM buckets) THEN 'this year' ELSE 'a year earlier' END AS side,
       invoice_id, invoice_line, supplier_id, po_id, po_line, item_id, category, cost_center, invoice_date,
       quantity, amount, currency, amount_rep AS spend
FROM invoice_lines
WHERE m IN (SELECT m FROM buckets) OR m + 12 IN (SELECT m FROM buckets)
ORDER BY side DESC, invoice_date, invoice_id, invoice_line
