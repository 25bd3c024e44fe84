-- Customer insights: the settings behind the measurements, and each
-- account's and contact's stored insights (RFM, loyalty status, churn risk).
-- See src/insights.

-- One row once saved; no row means the defaults (version 0).
-- `base_currency` NULL means the loyalty programme's currency.
CREATE TABLE insight_settings (
    id                   BIGINT PRIMARY KEY CHECK (id = 1),
    activity_window_days BIGINT NOT NULL,
    at_risk_after_days   BIGINT NOT NULL,
    new_customer_days    BIGINT NOT NULL,
    gross_margin         DOUBLE PRECISION NOT NULL,
    base_currency        TEXT,
    version              BIGINT NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

-- When each kind of customer (account, contact) was last refreshed, with
-- which settings, and the score thresholds that refresh found: the job
-- scores a customer it recomputes alone against them, and refreshes everyone
-- again after an hour or when the settings change.
CREATE TABLE insight_refreshes (
    subject          TEXT PRIMARY KEY CHECK (subject IN ('account', 'contact')),
    refreshed_at     TIMESTAMPTZ NOT NULL,
    settings_version BIGINT NOT NULL,
    cuts             JSONB NOT NULL
);

-- The figures lists filter and sort on, and the whole insights document.
-- Customers not refreshed yet have no `insights_computed_at`.
ALTER TABLE accounts ADD COLUMN loyalty_status TEXT NOT NULL DEFAULT 'prospect';
ALTER TABLE accounts ADD COLUMN rfm_segment TEXT;
ALTER TABLE accounts ADD COLUMN nps_class TEXT;
ALTER TABLE accounts ADD COLUMN churn_risk BIGINT;
ALTER TABLE accounts ADD COLUMN insights JSONB;
ALTER TABLE accounts ADD COLUMN insights_computed_at TIMESTAMPTZ;
-- A value tier set by hand stays; otherwise the refresh computes it.
ALTER TABLE accounts ADD COLUMN value_tier_source TEXT NOT NULL DEFAULT 'computed'
    CHECK (value_tier_source IN ('manual', 'computed'));
UPDATE accounts SET value_tier_source = 'manual' WHERE value_tier IS NOT NULL;

ALTER TABLE contacts ADD COLUMN loyalty_status TEXT NOT NULL DEFAULT 'prospect';
ALTER TABLE contacts ADD COLUMN rfm_segment TEXT;
ALTER TABLE contacts ADD COLUMN nps_class TEXT;
ALTER TABLE contacts ADD COLUMN churn_risk BIGINT;
ALTER TABLE contacts ADD COLUMN insights JSONB;
ALTER TABLE contacts ADD COLUMN insights_computed_at TIMESTAMPTZ;

-- Lists sorted by churn risk put customers without one last in both directions.
CREATE INDEX accounts_churn_risk ON accounts ((churn_risk IS NULL), churn_risk, id) WHERE deleted_at IS NULL;
CREATE INDEX accounts_churn_risk_desc ON accounts ((churn_risk IS NULL), churn_risk DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX accounts_loyalty_status ON accounts (loyalty_status, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_churn_risk ON contacts ((churn_risk IS NULL), churn_risk, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_churn_risk_desc ON contacts ((churn_risk IS NULL), churn_risk DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX contacts_loyalty_status ON contacts (loyalty_status, id) WHERE deleted_at IS NULL;

-- The job reads the transactions recorded since its last pass.
CREATE INDEX transactions_created ON transactions (created_at, id);
