-- How well an export ($source) covers each base month of a year-over-year comparison ($bases: month integers),
-- for the weak-data warnings (kpi_definitions/weak_data.py): the month's lines and days with data, and the norm
-- they are held against. The norm is the export's typical month near the base month: the medians over the
-- twelve months after it of the export's regular months, those holding at least a tenth of the lines of its
-- typical month (the medians over its twelve busiest months), else that typical month itself. A few stray
-- back-dated lines before the export really starts are no regular month, so they never set the norm.
-- The months of every export come from sql/source_months.sql (or the facts kept of them).
-- Counted over the whole export, not a slice: coverage is a property of what was loaded, and a supplier's quiet
-- month is not a gap in the data.
WITH monthly AS (
    SELECT m, lines, days FROM ({source_months}) s WHERE source = $source
),
busiest AS (
    SELECT lines, days FROM monthly ORDER BY lines DESC, m LIMIT 12
),
typical AS (
    SELECT median(lines) AS lines, median(days) AS days FROM busiest
),
regular AS (
    SELECT y.m, y.lines, y.days FROM monthly y CROSS JOIN typical t WHERE y.lines >= 0.1 * t.lines
),
bases AS (
    SELECT DISTINCT m FROM (@rows($bases AS m INTEGER)) b
)
SELECT b.m, coalesce(x.lines, 0) AS lines, coalesce(x.days, 0) AS days,
       coalesce((SELECT median(y.lines) FROM regular y WHERE y.m BETWEEN b.m + 1 AND b.m + 12),
                (SELECT lines FROM typical)) AS norm_lines,
       coalesce((SELECT median(y.days) FROM regular y WHERE y.m BETWEEN b.m + 1 AND b.m + 12),
                (SELECT days FROM typical)) AS norm_days
FROM bases b LEFT JOIN monthly x USING (m)
ORDER BY b.m
