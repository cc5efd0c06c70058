-- Every initiative, whatever its stage, in each month of the range its counted window reaches: the saving
-- prorated to the month (sql/base.sql, ledger_months), and for the counted ones what was realised and booked.
-- The savings forecast (kpi_definitions/ledger.py) is made of these rows.
SELECT mo.initiative_id, mo.name, mo.supplier_id, mo.category, mo.stage, mo.counted, mo.m, mo.period,
       (mo.baseline_price - mo.new_price) * mo.forecast_qty * mo.r0 AS prorated,
       s.realised, s.booked, coalesce(s.refused, false) AS refused
FROM ledger_months mo
LEFT JOIN ledger_steps s ON s.initiative_id = mo.initiative_id AND s.m = mo.m
ORDER BY mo.m, mo.initiative_id
