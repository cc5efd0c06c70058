-- Price paid against the contract price (purchase price variance, PPV): on invoice lines of the period
-- whose PO line names a contract of the same supplier valid on its order date, for the contract's item
-- (any item of a contract that names none), with a quantity > 0 and an amount > 0:
--   PPV = Σ (amount − contract_unit_price × quantity) ÷ Σ contract_unit_price × quantity
-- both sides in the reporting currency at the rate of the invoice month (the contract price converted from
-- its own currency). Positive: paid above the contract (leakage). Null without such lines; a line whose
-- amount or contract price has no rate is left out and counted in `excluded`.
WITH priced AS (
    SELECT x.*, x.quantity * c.contract_unit_price * rep_rate(c.currency, r.rate, $ccy) AS agreed_rep
    FROM invoice_lines x
    JOIN contracts c ON c.contract_id = x.po_contract_id
    LEFT JOIN fx_monthly() r ON r.currency = c.currency AND r.m = x.m
    WHERE x.on_contract AND x.quantity > 0 AND x.amount > 0 AND (c.item_id IS NULL OR c.item_id = x.item_id)
),
monthly AS (
    SELECT m{dims},
           sum(amount_rep) FILTER (WHERE amount_rep IS NOT NULL AND agreed_rep IS NOT NULL) AS paid,
           sum(agreed_rep) FILTER (WHERE amount_rep IS NOT NULL AND agreed_rep IS NOT NULL) AS agreed,
           count(*) FILTER (WHERE amount_rep IS NULL OR agreed_rep IS NULL) AS excluded
    FROM priced
    GROUP BY ALL
)
SELECT b.period{dims},
       (sum(x.paid) - sum(x.agreed)) / nullif(sum(x.agreed), 0) AS value,
       coalesce(sum(x.excluded), 0) AS excluded
FROM buckets b
LEFT JOIN monthly x ON x.m = b.m
GROUP BY ALL
