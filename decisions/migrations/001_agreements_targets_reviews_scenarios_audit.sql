-- What the teams decide: agreed definitions (proposals and each approval or rejection), joint targets, review
-- meetings (the KPI values and findings they started from, their notes, decisions and actions, the targets'
-- statuses they saw), saved payment-terms scenarios, and the audit log of every step. Columns added by later
-- releases are added here too, so a database from before schema_version upgrades by this migration alone.
CREATE SEQUENCE IF NOT EXISTS agreement_seq START 1;
CREATE TABLE IF NOT EXISTS agreement_proposals (
    proposal_id BIGINT PRIMARY KEY, kpi VARCHAR NOT NULL, counts VARCHAR NOT NULL, definition VARCHAR NOT NULL,
    effective_date DATE NOT NULL, reason VARCHAR NOT NULL, effect DOUBLE, status VARCHAR NOT NULL, version INTEGER,
    proposed_by VARCHAR NOT NULL, proposed_name VARCHAR, proposed_team VARCHAR, proposed_verified BOOLEAN,
    proposed_at TIMESTAMP, decided_at TIMESTAMP, decision_reason VARCHAR);
CREATE TABLE IF NOT EXISTS agreement_decisions (
    proposal_id BIGINT, email VARCHAR, name VARCHAR, team VARCHAR, verified BOOLEAN, decision VARCHAR,
    comment VARCHAR, decided_at TIMESTAMP);

CREATE SEQUENCE IF NOT EXISTS target_seq START 1;
CREATE TABLE IF NOT EXISTS targets (
    target_id BIGINT PRIMARY KEY, kpi VARCHAR NOT NULL, view VARCHAR NOT NULL, grain VARCHAR NOT NULL,
    period VARCHAR NOT NULL, slice_dim VARCHAR, slice_value VARCHAR, value DOUBLE NOT NULL, status VARCHAR NOT NULL,
    proposed_by VARCHAR, proposed_team VARCHAR, proposed_verified BOOLEAN, proposal_comment VARCHAR,
    decided_by VARCHAR, decided_team VARCHAR, decision_comment VARCHAR, created_at TIMESTAMP, decided_at TIMESTAMP,
    decided_verified BOOLEAN);
ALTER TABLE targets ADD COLUMN IF NOT EXISTS decided_verified BOOLEAN;

CREATE SEQUENCE IF NOT EXISTS review_seq START 1;
CREATE TABLE IF NOT EXISTS reviews (review_id BIGINT PRIMARY KEY, held_on DATE, started_at TIMESTAMP, period VARCHAR);
CREATE TABLE IF NOT EXISTS review_kpis (review_id BIGINT, kpi VARCHAR, view VARCHAR, period VARCHAR, value DOUBLE);
CREATE TABLE IF NOT EXISTS review_findings (review_id BIGINT, export_type VARCHAR, rule VARCHAR, subject VARCHAR);
CREATE SEQUENCE IF NOT EXISTS review_item_seq START 1;
CREATE TABLE IF NOT EXISTS review_items (
    item_id BIGINT PRIMARY KEY, review_id BIGINT, kpi VARCHAR, kind VARCHAR, text VARCHAR, owner VARCHAR,
    due_date DATE, status VARCHAR, created_at TIMESTAMP, closed_at TIMESTAMP,
    created_by VARCHAR, created_by_team VARCHAR, closed_by VARCHAR, closed_by_team VARCHAR);
ALTER TABLE review_items ADD COLUMN IF NOT EXISTS created_by VARCHAR;
ALTER TABLE review_items ADD COLUMN IF NOT EXISTS created_by_team VARCHAR;
ALTER TABLE review_items ADD COLUMN IF NOT EXISTS closed_by VARCHAR;
ALTER TABLE review_items ADD COLUMN IF NOT EXISTS closed_by_team VARCHAR;
CREATE TABLE IF NOT EXISTS review_targets (
    review_id BIGINT, target_id BIGINT, kpi VARCHAR, view VARCHAR, grain VARCHAR, period VARCHAR, slice_dim VARCHAR,
    slice_value VARCHAR, target DOUBLE, forecast DOUBLE, status VARCHAR);

CREATE SEQUENCE IF NOT EXISTS terms_scenario_seq START 1;
CREATE TABLE IF NOT EXISTS terms_scenarios (
    scenario_id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, assumptions VARCHAR, saved_by VARCHAR NOT NULL,
    team VARCHAR, verified BOOLEAN NOT NULL, saved_at TIMESTAMP NOT NULL,
    new_terms INTEGER NOT NULL, window_from VARCHAR NOT NULL, window_to VARCHAR NOT NULL,
    cost_of_capital DOUBLE NOT NULL, suppliers VARCHAR[], categories VARCHAR[], min_spend DOUBLE, max_spend DOUBLE,
    discount VARCHAR, suppliers_affected INTEGER, spend_affected DOUBLE, dpo_before DOUBLE, dpo_after DOUBLE,
    cash_released DOUBLE, financing_value DOUBLE, break_even_price_increase DOUBLE, suppliers_beyond_terms INTEGER,
    discount_annualised DOUBLE, currency VARCHAR NOT NULL);

CREATE SEQUENCE IF NOT EXISTS audit_seq START 1;
CREATE TABLE IF NOT EXISTS audit_log (
    entry_id BIGINT PRIMARY KEY, recorded_at TIMESTAMP NOT NULL,
    email VARCHAR NOT NULL, name VARCHAR, team VARCHAR, verified BOOLEAN NOT NULL,
    entity_type VARCHAR NOT NULL, entity_id VARCHAR NOT NULL, action VARCHAR NOT NULL,
    before_json VARCHAR, after_json VARCHAR);
