-- Where negotiated savings evaporate on the way to the books, per period of `buckets` and slice ({dims}): each step
-- is the sum of its column of ledger_steps (sql/base.sql), so negotiated + every step = booked, to the cent.
SELECT period{dims},
       coalesce(sum(price_not_applied), 0) AS price_not_applied,
       coalesce(sum(volume), 0) AS volume,
       coalesce(sum(off_contract), 0) AS off_contract,
       coalesce(sum(fx), 0) + coalesce(sum(market_index), 0) + coalesce(sum(scope), 0) AS fx_scope,
       coalesce(sum(fx), 0) AS fx,
       coalesce(sum(market_index), 0) AS market_index,
       coalesce(sum(scope), 0) AS scope,
       coalesce(sum(not_booked), 0) AS not_booked
FROM ledger_steps
GROUP BY period{dims}
