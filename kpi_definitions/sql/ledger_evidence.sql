-- The months of each counted initiative's window, up to the range's last month, that hold invoice lines under
-- its contract with a quantity (the evidence rule before "realised", decisions/ledger.py).
SELECT initiative_id, count(DISTINCT m) AS months
FROM ledger_lines
WHERE under AND q IS NOT NULL AND NOT left_out
GROUP BY initiative_id
