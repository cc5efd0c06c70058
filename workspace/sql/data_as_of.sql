-- When the data was last changed by a load: the time stamped on snapshots and the review pack.
SELECT max(finished_at) AS as_of FROM load_log WHERE outcome IN ('loaded', 'partial')
