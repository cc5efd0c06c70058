-- Share of the period's invoices in {scope} that no one counted as a touch touched ({touched}), by the month of
-- the invoice date; a document counts once. Invoices without any approval event are left out (excluded): nothing
-- says how they went. Null when no invoice is counted.
WITH by_month AS (
    SELECT x.m{dims}, count(*) FILTER (WHERE x.events > 0) AS counted,
           count(*) FILTER (WHERE x.events > 0 AND NOT x.{touched}) AS touchless,
           count(*) FILTER (WHERE x.events = 0) AS excluded
    FROM invoice_flow x
    WHERE x.{scope}
    GROUP BY ALL
)
SELECT b.period{dims}, @div(sum(x.touchless), sum(x.counted)) AS value, coalesce(sum(x.excluded), 0) AS excluded
FROM buckets b LEFT JOIN by_month x ON x.m = b.m
GROUP BY ALL
