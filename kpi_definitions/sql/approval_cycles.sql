-- Cycle time per stage of the flow (sql/fact_flow.sql `fact_cycles`): the median and 90th percentile, in days,
-- over the documents that completed the stage in the period, each document once (never an average over lines).
SELECT c.stage, b.period{dims}, count(*) AS documents,
       @div(@quantile(c.seconds, 0.5), 86400) AS median_days, @div(@quantile(c.seconds, 0.9), 86400) AS p90_days
FROM fact_cycles c
JOIN buckets b ON b.m = c.m
WHERE @picked($supplier_id, c.supplier_id)
  AND @picked($category, c.category)
  AND @picked($cost_center, c.cost_center)
GROUP BY ALL
