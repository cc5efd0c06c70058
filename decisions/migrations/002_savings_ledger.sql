-- The savings ledger (decisions/ledger.py, docs/savings-ledger.md): every version of an initiative's terms (who
-- recorded it, from the form or an export), every stage move (who, when, why), and finance's bookings per
-- month with the invoice lines they were booked on. All three are append-only: a stage is the latest move, a
-- booked month is the sum of its entries, and a correction is a new entry, never an edit.
CREATE SEQUENCE IF NOT EXISTS savings_version_seq START 1;
CREATE TABLE IF NOT EXISTS savings_versions (
    version_id BIGINT PRIMARY KEY, initiative_id VARCHAR NOT NULL, version INTEGER NOT NULL,
    name VARCHAR, category VARCHAR, supplier_id VARCHAR, contract_id VARCHAR, item_id VARCHAR, type VARCHAR,
    baseline_method VARCHAR, baseline_price DOUBLE, new_price DOUBLE, forecast_quantity DOUBLE, currency VARCHAR,
    window_start DATE, window_end DATE, owner VARCHAR,
    source VARCHAR NOT NULL, load_id BIGINT, reason VARCHAR,
    recorded_by VARCHAR NOT NULL, recorded_name VARCHAR, recorded_team VARCHAR, recorded_verified BOOLEAN NOT NULL,
    recorded_at TIMESTAMP NOT NULL);

CREATE SEQUENCE IF NOT EXISTS savings_move_seq START 1;
CREATE TABLE IF NOT EXISTS savings_moves (
    move_id BIGINT PRIMARY KEY, initiative_id VARCHAR NOT NULL, from_stage VARCHAR, to_stage VARCHAR NOT NULL,
    reason VARCHAR NOT NULL, moved_by VARCHAR NOT NULL, moved_name VARCHAR, moved_team VARCHAR,
    moved_verified BOOLEAN NOT NULL, moved_at TIMESTAMP NOT NULL);

CREATE SEQUENCE IF NOT EXISTS savings_booking_seq START 1;
CREATE TABLE IF NOT EXISTS savings_bookings (
    entry_id BIGINT PRIMARY KEY, initiative_id VARCHAR NOT NULL, period DATE NOT NULL, kind VARCHAR NOT NULL,
    amount DOUBLE NOT NULL, currency VARCHAR NOT NULL, lines BIGINT NOT NULL, corrects BIGINT, reason VARCHAR,
    booked_by VARCHAR NOT NULL, booked_name VARCHAR, booked_team VARCHAR, booked_verified BOOLEAN NOT NULL,
    booked_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS savings_booking_lines (
    entry_id BIGINT NOT NULL, invoice_id VARCHAR NOT NULL, invoice_line BIGINT NOT NULL, invoice_date DATE,
    quantity DOUBLE, amount DOUBLE, currency VARCHAR, amount_rep DOUBLE, baseline_rep DOUBLE, saving DOUBLE);
