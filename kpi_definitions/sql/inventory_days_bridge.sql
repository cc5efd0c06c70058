-- From excess-stock days (procurement) to all-stock days (finance), per period of `buckets` and slice ({dims}):
-- the stock held as safety stock, min(on hand, safety stock) × unit cost, in days of consumption.
WITH per_snapshot AS (
    SELECT b.period{dims:x}, x.snapshot_date, sum(x.safety_rep) AS safety
    FROM inventory_lines x
    JOIN buckets b ON b.m = x.m
    GROUP BY b.period{dims:x}, x.snapshot_date
),
safety AS (
    SELECT period{dims}, avg(safety) AS safety FROM per_snapshot GROUP BY period{dims}
),
consumed AS (
    SELECT b.period{dims:x}, sum(x.value_rep) AS consumed
    FROM consumption_lines x
    JOIN buckets b ON b.m = x.m
    GROUP BY b.period{dims:x}
)
SELECT period{dims}, @div(s.safety, @div(c.consumed, d.days)) AS safety_stock
FROM safety s
JOIN consumed c USING (period{dims})
JOIN period_days d USING (period)
