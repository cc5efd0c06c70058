-- Realised savings by period (kpi_definitions/ledger.py `realised`), computed from invoice lines, never typed: on the lines of each counted initiative's
-- supplier and category dated in its savings window whose PO line is on the initiative's contract,
-- Σ (baseline price × quantity invoiced − amount paid), in the reporting currency (sql/base.sql, ledger_lines).
-- 0 without counted initiatives; null when there are some but none converts.
SELECT b.period{dims},
       CASE WHEN count(s.m) = 0 OR sum(s.realised) IS NOT NULL THEN coalesce(sum(s.realised), 0) END AS value,
       CAST(count(s.m) FILTER (WHERE s.realised IS NULL) + coalesce(sum(s.lines_left_out), 0) AS BIGINT) AS excluded
FROM buckets b
LEFT JOIN ledger_steps s ON s.m = b.m
GROUP BY ALL
