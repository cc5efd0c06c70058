-- The SQL every KPI query shares, as temporary macros: kpi_definitions/macros.py creates them on each
-- connection before a KPI query runs (read-only connections too: a TEMP macro lives in the connection,
-- never in the file). DuckDB expands a macro where it is called, when the query is bound, so a call costs
-- exactly what the expression written out costs.

-- A month as one integer, year * 12 + month - 1 (kpi_definitions/periods.py carries months the same way),
-- so "a year earlier" is m - 12.
CREATE OR REPLACE TEMP MACRO month_ix(d) AS year(d) * 12 + month(d) - 1;

-- A timestamp (TIMESTAMPTZ, an instant) as the plain UTC timestamp it is: its date and month are then read
-- without the time-zone library (ten times faster at millions of events) and whatever the session's zone.
CREATE OR REPLACE TEMP MACRO utc(t) AS make_timestamp(epoch_us(t));

-- What one unit of `currency` is worth in the reporting currency `ccy`: 1 in that currency, else the
-- month's rate (NULL without one, so the converted amount is NULL and drops out of sums).
CREATE OR REPLACE TEMP MACRO rep_rate(currency, rate, ccy) AS CASE WHEN currency = ccy THEN 1 ELSE rate END;

-- FX rates by month index: join on (currency, m).
CREATE OR REPLACE TEMP MACRO fx_monthly() AS TABLE
    SELECT currency, month_ix(period) AS m, rate_to_reporting AS rate FROM fx_rates;

-- A dimension filter: `sel` is the list of values picked (a parameter such as $category), NULL for all.
CREATE OR REPLACE TEMP MACRO picked(sel, v) AS (sel::VARCHAR[] IS NULL OR list_contains(sel::VARCHAR[], v));
