-- Share of actual spend on invoice lines that are {managed}: its spend over all the spend, per month and slice as
-- kept at load (sql/fact_invoice_months.sql), then per period. Null when the period's spend is 0.
WITH spend AS (
    SELECT x.m{dims}, sum(x.{managed}) AS managed, sum(x.spend) AS spend, sum(x.unconverted) AS excluded
    FROM invoice_months x
    GROUP BY ALL
)
SELECT b.period{dims},
       @div(coalesce(sum(x.managed), 0), sum(x.spend)) AS value,
       coalesce(sum(x.excluded), 0) AS excluded
FROM buckets b
LEFT JOIN spend x ON x.m = b.m
GROUP BY ALL
