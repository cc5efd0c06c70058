-- Consumption rows with the item's category and the value in the reporting currency at the month's rate (NULL
-- without one), joined once when they are loaded (as sql/fact_stock.sql). {where}: the months to build.
SELECT @month_ix(c.period) AS m, c.item_id, c.location, coalesce(k.category, '(no category)') AS category,
       c.quantity, c.value, c.currency, c.value * @rep_rate(c.currency, r.rate, $ccy) AS value_rep
FROM consumption c
LEFT JOIN @fx_monthly() r ON r.currency = c.currency AND r.m = @month_ix(c.period)
LEFT JOIN fact_items k ON k.item_id = c.item_id
WHERE {where}
