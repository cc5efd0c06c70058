-- Amount-weighted days ({days}: taken, or agreed terms) over invoice lines with a positive amount paid in the
-- period. Lines with no FX rate (or, for agreed terms, no known terms) are left out and counted in `excluded`.
-- Read per payment month and slice as kept at load (sql/fact_paid_months.sql), then per period.
WITH paid AS (
    SELECT x.m{dims}, sum(x.{days}_days) AS weighted, sum(x.{days}_amount) AS amount,
           sum(x.{days}_excluded) AS excluded
    FROM paid_months x
    GROUP BY ALL
)
SELECT b.period{dims},
       @div(sum(x.weighted), sum(x.amount)) AS value,
       coalesce(sum(x.excluded), 0) AS excluded
FROM buckets b
LEFT JOIN paid x ON x.m = b.m
GROUP BY ALL
