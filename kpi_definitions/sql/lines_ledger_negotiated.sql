-- The initiatives behind negotiated savings: each counted initiative in each month of the span, with the days
-- counted, the forecast quantity prorated to them and the negotiated saving.
SELECT initiative_id, name, supplier_id, category, stage, type, baseline_method,
       @month_label(m) AS month, days, forecast_qty, negotiated
FROM ledger_steps
ORDER BY negotiated DESC NULLS LAST, initiative_id, m
