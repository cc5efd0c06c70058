-- The months a load of invoices changed, whose monthly facts it re-sums (kpi_definitions/facts.py): by invoice
-- month (`m`: fact_prices, fact_invoice_months, fact_months) and by paid month (`paid`: fact_paid_months). A month
-- changed when the load (the newest load id) holds a line of it, or when its count of lines no longer matches the
-- facts (a line the load replaced sat in another month: the deletion lowered that month's count).
WITH newest AS (
    SELECT * FROM fact_invoices WHERE _load_id = (SELECT max(_load_id) FROM fact_invoices)
),
by_month AS (
    SELECT m, count(*) AS n FROM fact_invoices WHERE m IS NOT NULL GROUP BY m
),
by_paid AS (
    SELECT paid_m AS m, count(*) AS n FROM fact_invoices
    WHERE amount > 0 AND paid_date IS NOT NULL AND paid_m IS NOT NULL GROUP BY paid_m
)
SELECT DISTINCT 'm' AS kind, m FROM newest WHERE m IS NOT NULL
UNION
SELECT DISTINCT 'paid', paid_m FROM newest WHERE amount > 0 AND paid_date IS NOT NULL AND paid_m IS NOT NULL
UNION
SELECT 'm', coalesce(l.m, f.m)
FROM by_month l FULL JOIN (SELECT m, lines AS n FROM fact_months WHERE source = 'invoices') f ON f.m = l.m
WHERE l.n IS DISTINCT FROM f.n
UNION
SELECT 'paid', coalesce(l.m, f.m)
FROM by_paid l FULL JOIN (SELECT m, sum(lines) AS n FROM fact_paid_months GROUP BY m) f ON f.m = l.m
WHERE l.n IS DISTINCT FROM f.n
