-- The months a load of invoices changed, whose price facts (sql/fact_prices.sql) it rebuilds: the months
-- of its own lines (the newest load id), and any month whose count of lines no longer matches the facts
-- (a line it replaced that sat in another month: a deletion there lowers the count, and an addition there
-- is a line of the load).
SELECT DISTINCT m FROM fact_invoices
WHERE _load_id = (SELECT max(_load_id) FROM fact_invoices) AND m IS NOT NULL
UNION
SELECT coalesce(l.m, p.m)
FROM (SELECT m, count(*) AS n FROM fact_invoices WHERE m IS NOT NULL GROUP BY m) l
FULL JOIN (SELECT m, sum(lines) AS n FROM fact_prices GROUP BY m) p ON p.m = l.m
WHERE l.n IS DISTINCT FROM p.n
