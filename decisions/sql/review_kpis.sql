-- The KPI values the review with id $1 started from.
SELECT kpi, view, period, value FROM review_kpis WHERE review_id = $1
