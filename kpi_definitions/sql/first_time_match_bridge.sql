-- From procurement's first-time match (two-way: price and quantity) to finance's (three-way: also received by the
-- invoice date), as shares of the invoices in scope, per period of `buckets` and slice ({dims}): the invoices that
-- match the order but came before the goods, by whether the goods came later or have not come yet.
WITH n AS (
    SELECT b.period{dims:x}, count(*) AS every,
           count(*) FILTER (WHERE x.two_way AND NOT x.three_way AND x.received_ever) AS later,
           count(*) FILTER (WHERE x.two_way AND NOT x.three_way AND NOT x.received_ever) AS never
    FROM invoice_flow x
    JOIN buckets b ON b.m = x.m
    WHERE x.match_scope
    GROUP BY b.period{dims:x}
)
SELECT period{dims}, -@div(later + never, every) AS receipt_missing, -@div(later, every) AS received_later,
       -@div(never, every) AS not_received
FROM n
