-- The months a load of stock or consumption ({table}, dated by {date}) changed, whose rows of {fact} it rebuilds:
-- the months of its own rows (the newest load id), and any month whose count of rows no longer matches the facts
-- (a row it replaced sat in another month).
SELECT DISTINCT @month_ix({date}) AS m FROM {table} WHERE _load_id = (SELECT max(_load_id) FROM {table})
UNION
SELECT coalesce(l.m, f.m)
FROM (SELECT @month_ix({date}) AS m, count(*) AS n FROM {table} GROUP BY ALL) l
FULL JOIN (SELECT m, count(*) AS n FROM {fact} GROUP BY m) f ON f.m = l.m
WHERE l.n IS DISTINCT FROM f.n
