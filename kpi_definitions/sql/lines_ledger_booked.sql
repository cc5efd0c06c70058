-- What finance booked in the span: every entry (bookings, refusals, corrections) of the counted initiatives,
-- with who booked it, when and why.
SELECT k.entry_id, k.initiative_id, i.name, i.supplier_id, i.category, @month_label(@month_ix(k.period)) AS month, k.kind,
       k.amount AS booked, k.lines, k.corrects, k.reason, k.booked_by, k.booked_team, k.booked_at
FROM savings_bookings k
JOIN ledger_initiatives i ON i.initiative_id = k.initiative_id AND i.counted
WHERE @month_ix(k.period) IN (SELECT m FROM buckets)
ORDER BY k.period, k.initiative_id, k.entry_id
