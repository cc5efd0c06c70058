-- From procurement's funds available to finance's over the span: finance does not count the pending
-- requisitions, and dates commitments by their document's date instead of their approval (timing, by bucket:
-- what procurement dates in the span less what finance does). Invoices are actuals by invoice date for both.
WITH x AS (
    SELECT bucket, amount,
           coalesce(m_fin IN (SELECT m FROM buckets), false) AS fin,
           coalesce(m_proc IN (SELECT m FROM buckets), false) AS proc
    FROM funds_use
    WHERE bucket NOT IN ('invoiced_on_po', 'non_po_invoices')
),
steps AS (
    SELECT
        coalesce(sum(amount) FILTER (WHERE bucket = 'pending_requisitions' AND proc), 0) AS pending_requisitions,
        coalesce(sum(amount) FILTER (WHERE bucket = 'approved_not_ordered' AND proc), 0)
            - coalesce(sum(amount) FILTER (WHERE bucket = 'approved_not_ordered' AND fin), 0) AS approved_not_ordered,
        coalesce(sum(amount) FILTER (WHERE bucket = 'open_po' AND proc), 0)
            - coalesce(sum(amount) FILTER (WHERE bucket = 'open_po' AND fin), 0) AS open_pos,
        coalesce(sum(amount) FILTER (WHERE bucket = 'received_not_invoiced' AND proc), 0)
            - coalesce(sum(amount) FILTER (WHERE bucket = 'received_not_invoiced' AND fin), 0) AS received_not_invoiced
    FROM x
)
-- timing: the three buckets' dating differences netted, each kept as its own column
SELECT pending_requisitions, approved_not_ordered + open_pos + received_not_invoiced AS timing,
       * EXCLUDE (pending_requisitions)
FROM steps
