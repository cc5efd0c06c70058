-- Negotiated savings: (baseline − paid unit price) × quantity on PO lines ordered in the period under a
-- contract of the same supplier valid on the order date. Cost avoidance included. 0 without such lines;
-- null when there are some but none converts to the reporting currency (no fx rate): never 0 for that.
-- Read per month and slice as kept at load (sql/fact_po_savings.sql).
SELECT b.period{dims},
       CASE WHEN coalesce(sum(x.contract_lines), 0) = 0 OR sum(x.savings) IS NOT NULL
            THEN coalesce(sum(x.savings), 0) END AS value,
       coalesce(sum(x.savings_unconverted), 0) AS excluded
FROM buckets b
LEFT JOIN po_savings x ON x.m = b.m
GROUP BY ALL
