-- The items behind the price paid against contract: per item bought from a supplier on a contract, paid vs
-- the contract price over the span's invoice lines (as sql/price_procurement.sql counts them), largest
-- variance first.
WITH priced AS (
    SELECT x.*, c.contract_unit_price, c.currency AS contract_currency,
           x.quantity * c.contract_unit_price * @rep_rate(c.currency, r.rate, $ccy) AS agreed_rep
    FROM invoice_lines x
    JOIN contracts c ON c.contract_id = x.po_contract_id
    LEFT JOIN @fx_monthly() r ON r.currency = c.currency AND r.m = x.m
    WHERE x.on_contract AND x.quantity > 0 AND x.amount > 0 AND (c.item_id IS NULL OR c.item_id = x.item_id)
      AND x.m IN (SELECT m FROM buckets) AND x.amount_rep IS NOT NULL
)
SELECT supplier_id, item_id, category, po_contract_id AS contract_id, contract_unit_price, contract_currency,
       count(*) AS lines, sum(quantity) AS quantity, sum(amount_rep) AS paid, sum(agreed_rep) AS at_contract,
       sum(amount_rep) - sum(agreed_rep) AS variance,
       @div(sum(amount_rep) - sum(agreed_rep), sum(agreed_rep)) AS variance_pct
FROM priced
WHERE agreed_rep IS NOT NULL
GROUP BY ALL
ORDER BY variance DESC, supplier_id, item_id
