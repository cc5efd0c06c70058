-- Every initiative with its stage, its counted window and the rate its negotiated saving is stated at (sql/base.sql,
-- ledger_initiatives; r0 NULL: no FX rate for the month its window starts).
SELECT initiative_id, name, supplier_id, category, stage, counted, window_start, window_end, counted_days,
       window_days, currency, r0, index_name, index0
FROM ledger_initiatives
ORDER BY initiative_id
