-- The savings ledger by initiative over the span: every step of the bridge for each counted initiative (sql/base.sql,
-- ledger_steps), with what its lines were and whether finance refused a month of it.
SELECT initiative_id, name, supplier_id, category, type, baseline_method, stage, index_name,
       sum(negotiated) AS negotiated, sum(price_not_applied) AS price_not_applied, sum(volume) AS volume,
       sum(off_contract) AS off_contract, sum(fx) + sum(market_index) + sum(scope) AS fx_scope, sum(fx) AS fx,
       sum(market_index) AS market_index, sum(scope) AS scope, sum(realised) AS realised,
       sum(realised_indexed) AS realised_indexed, sum(booked) AS booked, sum(not_booked) AS not_booked,
       sum(forecast_qty) AS forecast_qty, CAST(sum(lines_under) AS BIGINT) AS lines_under,
       CAST(sum(lines_off) AS BIGINT) AS lines_off, CAST(sum(lines_left_out) AS BIGINT) AS lines_left_out,
       count(*) FILTER (WHERE negotiated IS NULL) AS months_left_out,
       coalesce(bool_or(refused), false) AS refused
FROM ledger_steps
GROUP BY initiative_id, name, supplier_id, category, type, baseline_method, stage, index_name
ORDER BY negotiated DESC NULLS LAST, initiative_id
