-- Price outlook per category that follows a market index, as of the last month of `buckets` (T): the
-- market's change over the year to T, and the contracts ending in the twelve months after T with their
-- spend over the twelve months to T (invoice lines on them) and how far the market moved since each
-- started: value_T ÷ value at the contract's start month − 1 (the index's first month after the start when
-- it begins later), so the contract price is that much below the market now if it was at the market when
-- signed. Weighted by spend; exposure = Σ spend × that move.
WITH t AS (SELECT max(m) AS t FROM buckets),
idx AS (SELECT index_name, @month_ix(period) AS m, value FROM price_indices),
now AS (SELECT index_name, value FROM idx WHERE m = (SELECT t FROM t)),
ending AS (
    SELECT k.contract_id, k.category, k.supplier_id, k.end_date, ci.index_name,
           @div(n.value, (SELECT @first_by(s.value, s.m) FROM idx s
                          WHERE s.index_name = ci.index_name AND s.m >= @month_ix(k.start_date))) - 1 AS market_since_start
    FROM contracts k
    JOIN category_index ci ON ci.category = k.category
    LEFT JOIN now n ON n.index_name = ci.index_name
    WHERE @month_ix(k.end_date) > (SELECT t FROM t) AND @month_ix(k.end_date) <= (SELECT t FROM t) + 12
      AND @picked($category, k.category) AND @picked($supplier_id, k.supplier_id)
),
spend AS (
    SELECT po_contract_id AS contract_id, sum(amount_rep) AS spend
    FROM invoice_lines
    WHERE on_contract AND m BETWEEN (SELECT t FROM t) - 11 AND (SELECT t FROM t)
    GROUP BY ALL
),
contracts_ending AS (
    SELECT e.*, coalesce(s.spend, 0) AS spend FROM ending e LEFT JOIN spend s USING (contract_id)
),
market AS (
    SELECT ci.category, ci.index_name,
           @div(max(i.value) FILTER (WHERE i.m = (SELECT t FROM t)),
                max(i.value) FILTER (WHERE i.m = (SELECT t FROM t) - 12)) - 1 AS market_change
    FROM category_index ci LEFT JOIN idx i USING (index_name)
    WHERE @picked($category, ci.category)
    GROUP BY ALL
)
SELECT m.category, m.index_name, m.market_change,
       count(e.contract_id) AS contracts_ending, coalesce(sum(e.spend), 0) AS spend_ending,
       @div(sum(e.spend * e.market_since_start), sum(e.spend) FILTER (WHERE e.market_since_start IS NOT NULL))
           AS below_market,
       sum(e.spend * e.market_since_start) AS exposure
FROM market m LEFT JOIN contracts_ending e USING (category)
GROUP BY ALL
ORDER BY exposure DESC NULLS LAST, m.category
