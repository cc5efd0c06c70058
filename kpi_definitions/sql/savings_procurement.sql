-- Negotiated savings: (baseline − paid unit price) × quantity on PO lines ordered in the period under a
-- contract of the same supplier valid on the order date. Cost avoidance included.
SELECT b.period{dims},
       coalesce(sum(x.savings_rep), 0) AS value,
       count(x.m) FILTER (WHERE x.savings_rep IS NULL) AS excluded
FROM buckets b
LEFT JOIN po_lines x ON x.m = b.m AND x.on_contract
GROUP BY ALL
