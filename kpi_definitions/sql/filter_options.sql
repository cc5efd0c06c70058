-- The values the filter bar offers: suppliers (with their names), categories and cost centers in the data.
SELECT 'supplier_id' AS dim, x.supplier_id AS value,
       x.supplier_id || coalesce(' · ' || s.supplier_name, ' · (not in supplier master)') AS label
FROM (SELECT DISTINCT supplier_id FROM invoices UNION SELECT DISTINCT supplier_id FROM purchase_orders) x
LEFT JOIN suppliers s USING (supplier_id)
UNION ALL
SELECT 'category', category, category
FROM (SELECT DISTINCT category FROM invoices UNION SELECT DISTINCT category FROM purchase_orders
      UNION SELECT DISTINCT category FROM budgets)
UNION ALL
SELECT 'cost_center', cost_center, cost_center
FROM (SELECT DISTINCT cost_center FROM invoices UNION SELECT DISTINCT cost_center FROM purchase_orders
      UNION SELECT DISTINCT cost_center FROM budgets)
ORDER BY dim, value
