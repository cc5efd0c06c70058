-- How well an export covers each base month of a year-over-year comparison ($bases: month integers), for
-- the weak-data warnings (kpi_definitions/weak_data.py): the month's lines and days with data, and the
-- norm they are held against, the medians over the twelve months after it (up to the compared month) of
-- the months that hold any line. Counted over the whole export, not a slice: coverage is a property of
-- what was loaded, and a supplier's quiet month is not a gap in the data.
WITH daily AS (  -- lines per day first: faster than count(DISTINCT day) on millions of lines
    SELECT m, {date} AS day, count(*) AS lines
    FROM {table}
    WHERE m BETWEEN list_min($bases::INTEGER[]) AND list_max($bases::INTEGER[]) + 12
    GROUP BY m, {date}
),
monthly AS (
    SELECT m, sum(lines) AS lines, count(*) AS days FROM daily GROUP BY m
),
bases AS (
    SELECT DISTINCT unnest($bases::INTEGER[]) AS m
)
SELECT b.m, coalesce(x.lines, 0) AS lines, coalesce(x.days, 0) AS days,
       (SELECT median(y.lines) FROM monthly y WHERE y.m BETWEEN b.m + 1 AND b.m + 12) AS norm_lines,
       (SELECT median(y.days) FROM monthly y WHERE y.m BETWEEN b.m + 1 AND b.m + 12) AS norm_days
FROM bases b LEFT JOIN monthly x USING (m)
ORDER BY b.m
