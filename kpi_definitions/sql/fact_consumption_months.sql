-- The months the consumption export holds (fact_months). {where}: the months to count.
SELECT 'consumption' AS source, m, count(*) AS lines, 1 AS days
FROM fact_consumption WHERE {where} GROUP BY m
