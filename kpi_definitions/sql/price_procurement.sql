-- Price paid against the contract price (purchase price variance, PPV): on invoice lines of the period
-- whose PO line names a contract of the same supplier valid on its order date, for the contract's item
-- (any item of a contract that names none), with a quantity > 0 and an amount > 0:
--   PPV = Σ (amount − contract_unit_price × quantity) ÷ Σ contract_unit_price × quantity
-- both sides in the reporting currency at the rate of the invoice month (the contract price converted from
-- its own currency). Positive: paid above the contract (leakage). Null without such lines; a line whose
-- amount or contract price has no rate is left out and counted in `excluded`.
WITH monthly AS (  -- the lines' sums, kept per item-month by sql/fact_prices.sql
    SELECT m{dims}, sum(ppv_paid) AS paid, sum(ppv_agreed) AS agreed, sum(ppv_excluded) AS excluded
    FROM price_facts
    WHERE ppv_lines > 0
    GROUP BY ALL
)
SELECT b.period{dims},
       @div(sum(x.paid) - sum(x.agreed), sum(x.agreed)) AS value,
       coalesce(sum(x.excluded), 0) AS excluded
FROM buckets b
LEFT JOIN monthly x ON x.m = b.m
GROUP BY ALL
