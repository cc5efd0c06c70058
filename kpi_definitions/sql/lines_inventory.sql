-- Stock lines of the span's snapshots with the value each view counts.
SELECT snapshot_date, item_id, category, location, on_hand_qty, safety_stock_qty, unit_cost, currency,
       stock_rep AS stock_value, excess_rep AS above_safety_value, {stock} AS counted_value
FROM inventory_lines WHERE m IN (SELECT m FROM buckets)
ORDER BY counted_value DESC NULLS LAST, snapshot_date, item_id, location
