-- From procurement's first-time match (two-way: price and quantity) to finance's (three-way: also received by
-- the invoice date), as shares of the invoices in scope: the invoices that match the order but came before the
-- goods, by whether the goods came later or have not come yet.
WITH x AS (SELECT * FROM invoice_flow WHERE m IN (SELECT m FROM buckets) AND match_scope),
n AS (
    SELECT count(*) AS every,
           count(*) FILTER (WHERE two_way AND NOT three_way AND received_ever) AS later,
           count(*) FILTER (WHERE two_way AND NOT three_way AND NOT received_ever) AS never
    FROM x
)
SELECT -(later + never) / nullif(every, 0) AS receipt_missing, -later / nullif(every, 0) AS received_later,
       -never / nullif(every, 0) AS not_received
FROM n
