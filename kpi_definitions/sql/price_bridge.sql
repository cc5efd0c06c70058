-- From the price paid against contract (procurement) to the year-over-year price index change (finance), per
-- period of `buckets` and slice ({dims}). The monthly links of the finance view (sql/price_finance.sql) add up
-- item by item: L_t − 1 = Σ_i w_i,t × (p_i,t ÷ p_i,t−1 − 1), with w_i,t = s_i,t−1 ÷ Σ_j s_j,t−1. So:
--   contract variance   = − the procurement value (paying above or below the contract is not a change of
--                         price over time)
--   contracted items    = Σ over the twelve months to the period's end of the terms of items bought on a
--                         valid contract in month t
--   uncontracted items  = the same for the other items
--   compounding         = the finance value − Σ_t (L_t − 1): chain-linking multiplies the links, the two
--                         steps above add them
WITH ends AS (SELECT period, max(m) AS t FROM buckets GROUP BY period),
terms AS (
    SELECT b.m{dims:b}, b.contracted, a.spend0 * (@div(@div(b.spend, b.qty), @div(a.spend0, a.qty0)) - 1) AS term, a.spend0
    FROM price_items b
    JOIN (SELECT m + 1 AS m1, k AS k0, spend AS spend0, qty AS qty0 FROM price_items) a
      ON a.k0 = b.k AND a.m1 = b.m AND b.spend IS NOT NULL AND a.spend0 IS NOT NULL  -- both months priced
),
months AS (
    SELECT m{dims}, @div(sum(term) FILTER (WHERE contracted), sum(spend0)) AS on_contract,
           @div(sum(term) FILTER (WHERE NOT contracted), sum(spend0)) AS off_contract,
           @div(sum(term), sum(spend0)) AS change
    FROM terms
    GROUP BY m{dims}
),
links AS (
    SELECT e.period{dims:x}, sum(x.on_contract) AS contracted_items, sum(x.off_contract) AS uncontracted_items,
           exp(sum(ln(1 + x.change))) - 1 - sum(x.change) AS compounding
    FROM ends e
    JOIN months x ON x.m BETWEEN e.t - 11 AND e.t
    GROUP BY e.period{dims:x}
),
ppv AS (  -- sql/price_procurement.sql over the period
    SELECT b.period{dims:x}, @div(sum(x.ppv_paid) - sum(x.ppv_agreed), sum(x.ppv_agreed)) AS value
    FROM price_facts x
    JOIN buckets b ON b.m = x.m
    GROUP BY b.period{dims:x}
)
SELECT period{dims},
       -coalesce(p.value, 0) AS contract_variance,
       coalesce(l.contracted_items, 0) AS contracted_items,
       coalesce(l.uncontracted_items, 0) AS uncontracted_items,
       coalesce(l.compounding, 0) AS compounding
FROM links l
FULL JOIN ppv p USING (period{dims})
