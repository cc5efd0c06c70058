-- Share of the period's PO invoices that matched their PO lines the first time ({matched}), by the month of the
-- invoice date; a document counts once. In scope: invoices whose every line names a PO line that counts, with a
-- quantity and a positive amount (sql/fact_flow.sql). Null when none is in scope.
WITH by_month AS (
    SELECT x.m{dims}, count(*) FILTER (WHERE x.match_scope) AS counted,
           count(*) FILTER (WHERE x.match_scope AND x.{matched}) AS matched
    FROM invoice_flow x
    GROUP BY ALL
)
SELECT b.period{dims}, @div(sum(x.matched), sum(x.counted)) AS value, 0 AS excluded
FROM buckets b LEFT JOIN by_month x ON x.m = b.m
GROUP BY ALL
