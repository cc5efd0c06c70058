-- First-pass approval rate: of the documents decided in the period (approved or rejected, by their decision's
-- month, each once), the share approved with no rejection or return on the way.
SELECT b.period, d.document_type{dims}, count(*) AS decided,
       count(*) FILTER (WHERE d.state = 'approved' AND NOT d.reworked) AS first_pass,
       @div(count(*) FILTER (WHERE d.state = 'approved' AND NOT d.reworked), count(*)) AS rate
FROM fact_documents d
JOIN buckets b ON b.m = d.decided_m
WHERE d.state IN ('approved', 'rejected') AND d.events > 0
  AND @picked($supplier_id, d.supplier_id)
  AND @picked($category, d.category)
  AND @picked($cost_center, d.cost_center)
GROUP BY ALL
