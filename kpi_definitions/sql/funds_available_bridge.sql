-- From procurement's funds available to finance's, per period of `buckets` and slice ({dims}): finance does not
-- count the pending requisitions, and dates commitments by their document's date instead of their approval
-- (timing, by bucket: what procurement dates in the period less what finance does). Invoices are actuals by
-- invoice date for both, so they never differ.
WITH moved AS (  -- each commitment in the period procurement dates it in (+) and the one finance does (−)
    SELECT x.bucket, x.m_proc AS m{dims:x}, x.amount FROM funds_use x
    WHERE x.bucket IN ('pending_requisitions', 'approved_not_ordered', 'open_po', 'received_not_invoiced')
      AND x.m_proc IS NOT NULL
    UNION ALL
    SELECT x.bucket, x.m_fin{dims:x}, -x.amount FROM funds_use x
    WHERE x.bucket IN ('approved_not_ordered', 'open_po', 'received_not_invoiced') AND x.m_fin IS NOT NULL
),
steps AS (
    SELECT b.period{dims:x},
           coalesce(sum(x.amount) FILTER (WHERE x.bucket = 'pending_requisitions'), 0) AS pending_requisitions,
           coalesce(sum(x.amount) FILTER (WHERE x.bucket = 'approved_not_ordered'), 0) AS approved_not_ordered,
           coalesce(sum(x.amount) FILTER (WHERE x.bucket = 'open_po'), 0) AS open_pos,
           coalesce(sum(x.amount) FILTER (WHERE x.bucket = 'received_not_invoiced'), 0) AS received_not_invoiced
    FROM moved x
    JOIN buckets b ON b.m = x.m
    GROUP BY b.period{dims:x}
)
-- timing: the three buckets' dating differences netted, each kept as its own column
SELECT period{dims}, pending_requisitions, approved_not_ordered + open_pos + received_not_invoiced AS timing,
       approved_not_ordered, open_pos, received_not_invoiced
FROM steps
