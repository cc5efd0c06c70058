-- Negotiated savings: (baseline − paid unit price) × quantity on PO lines ordered in the period under a
-- contract of the same supplier valid on the order date. Cost avoidance included. 0 without such lines;
-- null when there are some but none converts to the reporting currency (no fx rate): never 0 for that.
SELECT b.period{dims},
       CASE WHEN count(x.m) = 0 OR sum(x.savings_rep) IS NOT NULL THEN coalesce(sum(x.savings_rep), 0) END AS value,
       count(x.m) FILTER (WHERE x.savings_rep IS NULL) AS excluded
FROM buckets b
LEFT JOIN po_lines x ON x.m = b.m AND x.on_contract
GROUP BY ALL
