-- Invoice lines under the counted initiatives in the span, each with what it adds to every step of the bridge
-- (sql/base.sql, ledger_lines): the realised saving of the lines on contract, and how each other line counts.
SELECT initiative_id, invoice_id, invoice_line, invoice_date, supplier_id, category, item_id, po_id, po_line,
       counted_as, quantity, amount, currency, amount_rep AS amount_paid, realised, realised_indexed,
       price AS price_not_applied, bought AS units_bought, off_contract, fx, market_index, scope
FROM ledger_lines
ORDER BY realised DESC, initiative_id, invoice_date, invoice_id, invoice_line
