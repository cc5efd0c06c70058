-- The price KPI's facts: invoice lines summed per month, supplier, item and category at load time, so the
-- price index and the price paid against contract read a few rows per item-month, never the lines (at 10M
-- lines, grouping them into item-months and joining each to the month before took seconds per query).
-- The sums are those sql/price_finance.sql and sql/price_procurement.sql define on lines:
--   priced lines  an item, a quantity > 0 and an amount > 0 (credit notes and lines without an item carry
--                 no price): spend, qty (of those with an FX rate), contracted, unpriced (those without one);
--   PPV lines     also on a valid contract of the PO line's supplier, for the contract's item (any item when
--                 the contract names none): paid and agreed (contract unit price × quantity) in the reporting
--                 currency at the invoice month's rate, where both convert; ppv_excluded where one does not.
-- `lines` counts every line of the month (what a load of invoices compares to find the months it changed).
-- {where}: the months to build (`true` for all).
SELECT x.m, x.supplier_id, x.item_id, x.category,
       count(*) AS lines,
       count(*) FILTER (WHERE priced) AS priced_lines,
       sum(x.amount_rep) FILTER (WHERE priced) AS spend,
       sum(x.quantity) FILTER (WHERE priced AND x.amount_rep IS NOT NULL) AS qty,
       bool_or(x.on_contract) FILTER (WHERE priced AND x.amount_rep IS NOT NULL) AS contracted,
       count(*) FILTER (WHERE priced AND x.amount_rep IS NULL) AS unpriced,
       count(*) FILTER (WHERE ppv) AS ppv_lines,
       sum(x.amount_rep) FILTER (WHERE ppv AND x.amount_rep IS NOT NULL AND agreed_rep IS NOT NULL) AS ppv_paid,
       sum(agreed_rep) FILTER (WHERE ppv AND x.amount_rep IS NOT NULL AND agreed_rep IS NOT NULL) AS ppv_agreed,
       count(*) FILTER (WHERE ppv AND (x.amount_rep IS NULL OR agreed_rep IS NULL)) AS ppv_excluded
FROM (
    SELECT x.*, x.item_id IS NOT NULL AND x.quantity > 0 AND x.amount > 0 AS priced,
           c.contract_id IS NOT NULL AND x.quantity > 0 AND x.amount > 0 AS ppv,
           x.quantity * c.contract_unit_price * @rep_rate(c.currency, r.rate, $ccy) AS agreed_rep
    FROM fact_invoices x
    LEFT JOIN contracts c
        ON x.on_contract AND c.contract_id = x.po_contract_id AND (c.item_id IS NULL OR c.item_id = x.item_id)
    LEFT JOIN @fx_monthly() r ON r.currency = c.currency AND r.m = x.m
    WHERE x.m IS NOT NULL AND ({where})
) x
GROUP BY x.m, x.supplier_id, x.item_id, x.category
