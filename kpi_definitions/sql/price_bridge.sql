-- From the price paid against contract (procurement) to the year-over-year price index change (finance),
-- over the span in `buckets`. The monthly links of the finance view (sql/price_finance.sql) add up item by
-- item: L_t − 1 = Σ_i w_i,t × (p_i,t ÷ p_i,t−1 − 1), with w_i,t = s_i,t−1 ÷ Σ_j s_j,t−1. So:
--   contract variance   = − the procurement value (paying above or below the contract is not a change of
--                         price over time)
--   contracted items    = Σ over the twelve months to the span's end of the terms of items bought on a
--                         valid contract in month t
--   uncontracted items  = the same for the other items
--   compounding         = the finance value − Σ_t (L_t − 1): chain-linking multiplies the links, the two
--                         steps above add them
WITH ends AS (SELECT max(m) AS t FROM buckets),
terms AS (
    SELECT b.m, b.contracted, a.spend0 * ((b.spend / b.qty) / (a.spend0 / a.qty0) - 1) AS term, a.spend0
    FROM price_items b
    JOIN (SELECT m + 1 AS m1, k AS k0, spend AS spend0, qty AS qty0 FROM price_items) a
      ON a.k0 = b.k AND a.m1 = b.m AND b.spend IS NOT NULL AND a.spend0 IS NOT NULL  -- both months priced
    WHERE b.m BETWEEN (SELECT t FROM ends) - 11 AND (SELECT t FROM ends)
),
months AS (
    SELECT m, sum(term) FILTER (WHERE contracted) / sum(spend0) AS on_contract,
           sum(term) FILTER (WHERE NOT contracted) / sum(spend0) AS off_contract,
           sum(term) / sum(spend0) AS change
    FROM terms GROUP BY m
),
ppv AS (  -- sql/price_procurement.sql over the span
    SELECT (sum(ppv_paid) - sum(ppv_agreed)) / nullif(sum(ppv_agreed), 0) AS value
    FROM price_facts WHERE m IN (SELECT m FROM buckets)
)
SELECT
    -coalesce((SELECT value FROM ppv), 0) AS contract_variance,
    coalesce((SELECT sum(on_contract) FROM months), 0) AS contracted_items,
    coalesce((SELECT sum(off_contract) FROM months), 0) AS uncontracted_items,
    coalesce((SELECT exp(sum(ln(1 + change))) - 1 - sum(change) FROM months), 0) AS compounding
