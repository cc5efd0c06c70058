-- Booked savings: what finance booked for the months of the period (savings_bookings: each booking froze the
-- realised amount of its month and the lines it came from; a correction is a new entry, a refusal books 0).
SELECT b.period{dims},
       CASE WHEN count(s.m) = 0 OR sum(s.booked) IS NOT NULL THEN coalesce(sum(s.booked), 0) END AS value,
       count(s.m) FILTER (WHERE s.booked IS NULL) AS excluded
FROM buckets b
LEFT JOIN ledger_steps s ON s.m = b.m
GROUP BY ALL
