-- Stock snapshot rows with what inventory days read, joined once when they are loaded: the item's category
-- (fact_items: its most recent PO line's, else its most recent contract's, else '(no category)') and the values
-- in the reporting currency at the snapshot month's rate (NULL without one). kpi_definitions/facts.py rebuilds the
-- months a load of stock changed, and all of them with the other facts. {where}: the months to build.
SELECT v.snapshot_date, @month_ix(v.snapshot_date) AS m, v.item_id, v.location,
       coalesce(k.category, '(no category)') AS category,
       v.on_hand_qty, v.safety_stock_qty, v.unit_cost, v.currency,
       v.on_hand_qty * v.unit_cost * @rep_rate(v.currency, r.rate, $ccy) AS stock_rep,
       greatest(v.on_hand_qty - v.safety_stock_qty, 0) * v.unit_cost * @rep_rate(v.currency, r.rate, $ccy) AS excess_rep,
       least(v.on_hand_qty, v.safety_stock_qty) * v.unit_cost * @rep_rate(v.currency, r.rate, $ccy) AS safety_rep
FROM inventory v
LEFT JOIN @fx_monthly() r ON r.currency = v.currency AND r.m = @month_ix(v.snapshot_date)
LEFT JOIN fact_items k ON k.item_id = v.item_id
WHERE {where}
