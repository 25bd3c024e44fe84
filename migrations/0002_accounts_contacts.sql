-- Accounts (client organisations) and contacts (people).
-- `name_key` ("last first") and `given_name_key` ("first last") are lowercase
-- search and sort keys: prefix searches run as index range scans on both engines. Both are soft-deleted
-- (`deleted_at`) so that history in other modules keeps its references.

CREATE TABLE accounts (
    id               UUID PRIMARY KEY,
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL,
    domain           TEXT,
    industry         TEXT,
    country          TEXT,
    region           TEXT,
    employee_count   BIGINT CHECK (employee_count >= 0),
    annual_revenue   BIGINT CHECK (annual_revenue >= 0),
    currency         TEXT,
    size_segment     TEXT CHECK (size_segment IN ('enterprise', 'mid_market', 'small')),
    size_segment_set BOOLEAN NOT NULL DEFAULT FALSE,
    value_tier       TEXT CHECK (value_tier IN ('high', 'medium', 'low')),
    lifecycle_stage  TEXT,
    key_account      BOOLEAN NOT NULL DEFAULT FALSE,
    owner_id         UUID REFERENCES users (id),
    tags             JSONB NOT NULL,
    custom_fields    JSONB NOT NULL,
    version          BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    deleted_at       TIMESTAMPTZ
);
CREATE INDEX accounts_created ON accounts (created_at, id);
CREATE INDEX accounts_updated ON accounts (updated_at, id);
CREATE INDEX accounts_name ON accounts (name_key, id);
CREATE INDEX accounts_domain ON accounts (domain);
CREATE INDEX accounts_owner ON accounts (owner_id, id);
CREATE INDEX accounts_value_tier ON accounts (value_tier, id);
CREATE INDEX accounts_size_segment ON accounts (size_segment, id);
CREATE INDEX accounts_country ON accounts (country, id);

CREATE TABLE account_tags (
    account_id UUID NOT NULL REFERENCES accounts (id),
    tag        TEXT NOT NULL,
    PRIMARY KEY (account_id, tag)
);
CREATE INDEX account_tags_tag ON account_tags (tag, account_id);

CREATE TABLE contacts (
    id               UUID PRIMARY KEY,
    first_name       TEXT,
    last_name        TEXT,
    name_key         TEXT NOT NULL,
    given_name_key   TEXT NOT NULL,
    email            TEXT,
    phone            TEXT,
    title            TEXT,
    account_id       UUID REFERENCES accounts (id),
    language         TEXT,
    time_zone        TEXT,
    country          TEXT,
    lifecycle_stage  TEXT NOT NULL CHECK (lifecycle_stage IN ('lead', 'prospect', 'customer', 'at_risk', 'churned')),
    owner_id         UUID REFERENCES users (id),
    tags             JSONB NOT NULL,
    custom_fields    JSONB NOT NULL,
    erased_at        TIMESTAMPTZ,
    version          BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    deleted_at       TIMESTAMPTZ
);
CREATE UNIQUE INDEX contacts_email_live ON contacts (email) WHERE deleted_at IS NULL;
CREATE INDEX contacts_created ON contacts (created_at, id);
CREATE INDEX contacts_updated ON contacts (updated_at, id);
CREATE INDEX contacts_name ON contacts (name_key, id);
CREATE INDEX contacts_given_name ON contacts (given_name_key);
CREATE INDEX contacts_account ON contacts (account_id, id);
CREATE INDEX contacts_owner ON contacts (owner_id, id);
CREATE INDEX contacts_lifecycle ON contacts (lifecycle_stage, id);
CREATE INDEX contacts_country ON contacts (country, id);

CREATE TABLE contact_tags (
    contact_id UUID NOT NULL REFERENCES contacts (id),
    tag        TEXT NOT NULL,
    PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_tag ON contact_tags (tag, contact_id);
