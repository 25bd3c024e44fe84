-- Engagements (the work done for a client) and transactions (what the client
-- paid or got back), and the purchase history kept on accounts and contacts.
-- See src/engagements and src/transactions.

-- Dates are stored as ISO 8601 text ('2026-03-31') on both engines, so they
-- compare and sort the same way everywhere.
CREATE TABLE engagements (
    id           UUID PRIMARY KEY,
    account_id   UUID NOT NULL REFERENCES accounts (id),
    name         TEXT NOT NULL,
    service_line TEXT,
    status       TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'on_hold', 'delivered', 'closed', 'lost')),
    started_on   TEXT,
    ended_on     TEXT,
    value        BIGINT CHECK (value >= 0),
    currency     TEXT,
    owner_id     UUID REFERENCES users (id),
    external_id  TEXT,
    tags         JSONB NOT NULL,
    custom_fields JSONB NOT NULL,
    version      BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX engagements_external_id ON engagements (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX engagements_account ON engagements (account_id, created_at, id);
CREATE INDEX engagements_created ON engagements (created_at, id);
-- Sorts on columns that may be empty put the empty ones last in both
-- directions (`started_on IS NULL` first in the ORDER BY).
CREATE INDEX engagements_started ON engagements ((started_on IS NULL), started_on, id);
CREATE INDEX engagements_started_desc ON engagements ((started_on IS NULL), started_on DESC, id DESC);
CREATE INDEX engagements_value ON engagements ((value IS NULL), value, id);
CREATE INDEX engagements_value_desc ON engagements ((value IS NULL), value DESC, id DESC);
CREATE INDEX engagements_status ON engagements (status, created_at, id);
CREATE INDEX engagements_owner ON engagements (owner_id, created_at, id);
CREATE INDEX engagements_updated ON engagements (updated_at, id);

-- The people on an engagement, one role each.
CREATE TABLE engagement_contacts (
    engagement_id UUID NOT NULL REFERENCES engagements (id),
    contact_id    UUID NOT NULL REFERENCES contacts (id),
    role          TEXT NOT NULL CHECK (role IN ('sponsor', 'decision_maker', 'stakeholder', 'end_user')),
    added_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (engagement_id, contact_id)
);
CREATE INDEX engagement_contacts_contact ON engagement_contacts (contact_id);

-- An engagement's history of statuses (its creation included): a branch of
-- the account's and the engagement's timelines.
CREATE TABLE engagement_status_changes (
    id            UUID PRIMARY KEY,
    engagement_id UUID NOT NULL REFERENCES engagements (id),
    account_id    UUID NOT NULL REFERENCES accounts (id),
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    changed_by    UUID,
    occurred_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX engagement_status_changes_account ON engagement_status_changes (account_id, occurred_at, id);
CREATE INDEX engagement_status_changes_engagement ON engagement_status_changes (engagement_id, occurred_at, id);

ALTER TABLE interactions ADD COLUMN engagement_id UUID REFERENCES engagements (id);
CREATE INDEX interactions_engagement ON interactions (engagement_id, occurred_at, id) WHERE engagement_id IS NOT NULL;
ALTER TABLE feedback ADD COLUMN engagement_id UUID REFERENCES engagements (id);
CREATE INDEX feedback_engagement ON feedback (engagement_id, received_at, id) WHERE engagement_id IS NOT NULL;

-- Append-only: rows are never updated except to blank the description of an
-- erased contact. `idempotency_scope` is the account (or, for a contact with
-- no account, the contact) within which `external_id` is unique;
-- `request_hash` tells a retry of the same post from a different one.
CREATE TABLE transactions (
    id                UUID PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('purchase', 'refund')),
    account_id        UUID REFERENCES accounts (id),
    contact_id        UUID REFERENCES contacts (id),
    engagement_id     UUID REFERENCES engagements (id),
    amount            BIGINT NOT NULL CHECK (amount > 0),
    currency          TEXT NOT NULL,
    occurred_at       TIMESTAMPTZ NOT NULL,
    description       TEXT,
    external_id       TEXT,
    idempotency_scope UUID NOT NULL,
    request_hash      TEXT NOT NULL,
    award_points      BOOLEAN NOT NULL,
    -- Points earned (purchase) or taken back (refund); NULL when not asked.
    points            BIGINT,
    created_by        UUID,
    created_at        TIMESTAMPTZ NOT NULL,
    CHECK (account_id IS NOT NULL OR contact_id IS NOT NULL)
);
CREATE UNIQUE INDEX transactions_external_id ON transactions (idempotency_scope, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX transactions_occurred ON transactions (occurred_at, id);
CREATE INDEX transactions_account ON transactions (account_id, occurred_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX transactions_contact ON transactions (contact_id, occurred_at, id) WHERE contact_id IS NOT NULL;
CREATE INDEX transactions_contact_no_account ON transactions (contact_id, occurred_at, id) WHERE account_id IS NULL;
CREATE INDEX transactions_engagement ON transactions (engagement_id, occurred_at, id) WHERE engagement_id IS NOT NULL;

-- Purchase history on the customer record, kept in the write's transaction.
ALTER TABLE accounts ADD COLUMN first_purchase_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN last_purchase_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN purchase_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN last_interaction_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN first_purchase_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN last_purchase_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN purchase_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN last_interaction_at TIMESTAMPTZ;
UPDATE accounts SET last_interaction_at = (SELECT MAX(i.occurred_at) FROM interactions i WHERE i.account_id = accounts.id);
UPDATE contacts SET last_interaction_at = (SELECT MAX(i.occurred_at) FROM interactions i WHERE i.contact_id = contacts.id);
-- The list sorted by last purchase orders never-purchased accounts last in
-- both directions (`last_purchase_at IS NULL` first in the ORDER BY): one
-- index per direction serves the first pages.
CREATE INDEX accounts_last_purchase ON accounts ((last_purchase_at IS NULL), last_purchase_at, id)
    WHERE deleted_at IS NULL;
CREATE INDEX accounts_last_purchase_desc ON accounts ((last_purchase_at IS NULL), last_purchase_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX accounts_last_interaction ON accounts (last_interaction_at, id) WHERE deleted_at IS NULL;

-- Net revenue (purchases − refunds) per customer and currency.
CREATE TABLE account_revenue (
    account_id UUID NOT NULL REFERENCES accounts (id),
    currency   TEXT NOT NULL,
    amount     BIGINT NOT NULL,
    PRIMARY KEY (account_id, currency)
);
CREATE INDEX account_revenue_amount ON account_revenue (currency, amount, account_id);
CREATE TABLE contact_revenue (
    contact_id UUID NOT NULL REFERENCES contacts (id),
    currency   TEXT NOT NULL,
    amount     BIGINT NOT NULL,
    PRIMARY KEY (contact_id, currency)
);

-- The same per currency, as the customer record shows it: {"EUR": 1200000}.
ALTER TABLE accounts ADD COLUMN lifetime_revenue JSONB NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN lifetime_revenue JSONB NOT NULL DEFAULT '{}';
