-- Channels (the touchpoints the firm runs), interactions (every touch with a
-- contact or account), and each contact's communication preferences and
-- consent history.

CREATE TABLE channels (
    id                       UUID PRIMARY KEY,
    kind                     TEXT NOT NULL CHECK (kind IN ('email', 'phone', 'sms', 'chat', 'social', 'web',
                                 'mobile_app', 'in_person', 'event', 'webinar', 'chatbot', 'other')),
    name                     TEXT NOT NULL,
    name_key                 TEXT NOT NULL,
    active                   BOOLEAN NOT NULL,
    first_response_minutes   BIGINT CHECK (first_response_minutes > 0),
    resolution_business_days BIGINT CHECK (resolution_business_days > 0),
    version                  BIGINT NOT NULL,
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX channels_name_key ON channels (name_key);
CREATE INDEX channels_kind ON channels (kind, id);
CREATE INDEX channels_active ON channels (active, id);

CREATE TABLE interactions (
    id               UUID PRIMARY KEY,
    contact_id       UUID REFERENCES contacts (id),
    account_id       UUID REFERENCES accounts (id),
    channel_id       UUID NOT NULL REFERENCES channels (id),
    direction        TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    interaction_type TEXT NOT NULL CHECK (interaction_type IN ('call', 'email', 'meeting', 'message', 'visit',
                         'webinar', 'event', 'note')),
    purpose          TEXT NOT NULL CHECK (purpose IN ('service', 'marketing', 'research', 'sales')),
    subject          TEXT,
    summary          TEXT,
    outcome          TEXT,
    occurred_at      TIMESTAMPTZ NOT NULL,
    duration_seconds BIGINT CHECK (duration_seconds >= 0),
    handled_by       UUID REFERENCES users (id),
    version          BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CHECK (contact_id IS NOT NULL OR account_id IS NOT NULL)
);
-- Every list, filter, timeline branch and the weekly marketing cap read
-- newest-first by (occurred_at, id) within one of these.
CREATE INDEX interactions_occurred ON interactions (occurred_at, id);
CREATE INDEX interactions_contact ON interactions (contact_id, occurred_at, id);
-- Partial, so that `account_id IS NULL` (below) is served by the contact's index, not by a scan of every
-- account-less interaction in time order.
CREATE INDEX interactions_account ON interactions (account_id, occurred_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX interactions_channel ON interactions (channel_id, occurred_at, id);
-- An account's timeline also shows its contacts' interactions tied to no account.
CREATE INDEX interactions_contact_no_account ON interactions (contact_id, occurred_at, id) WHERE account_id IS NULL;
CREATE INDEX interactions_handled_by ON interactions (handled_by, occurred_at, id);
CREATE INDEX interactions_direction ON interactions (direction, occurred_at, id);
CREATE INDEX interactions_type ON interactions (interaction_type, occurred_at, id);
CREATE INDEX interactions_purpose ON interactions (purpose, occurred_at, id);

CREATE TABLE contact_preferences (
    contact_id             UUID PRIMARY KEY REFERENCES contacts (id),
    preferred_channel_kind TEXT CHECK (preferred_channel_kind IN ('email', 'phone', 'sms', 'chat', 'social', 'web',
                               'mobile_app', 'in_person', 'event', 'webinar', 'chatbot', 'other')),
    language               TEXT,
    quiet_hours_start      TEXT,
    quiet_hours_end        TEXT,
    weekly_marketing_cap   BIGINT CHECK (weekly_marketing_cap >= 0),
    version                BIGINT NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    CHECK ((quiet_hours_start IS NULL) = (quiet_hours_end IS NULL))
);

-- Append-only: a change of consent is a new row, never an update. The current
-- consent for (contact, channel_kind, purpose) is the row with the latest
-- (recorded_at, id).
CREATE TABLE contact_consents (
    id           UUID PRIMARY KEY,
    contact_id   UUID NOT NULL REFERENCES contacts (id),
    channel_kind TEXT NOT NULL CHECK (channel_kind IN ('email', 'phone', 'sms', 'chat', 'social', 'web',
                     'mobile_app', 'in_person', 'event', 'webinar', 'chatbot', 'other')),
    purpose      TEXT NOT NULL CHECK (purpose IN ('service', 'marketing', 'research', 'sales')),
    granted      BOOLEAN NOT NULL,
    source       TEXT NOT NULL,
    legal_basis  TEXT NOT NULL CHECK (legal_basis IN ('consent', 'contract', 'legal_obligation', 'vital_interests',
                     'public_task', 'legitimate_interests')),
    recorded_at  TIMESTAMPTZ NOT NULL,
    actor_type   TEXT NOT NULL,
    actor_id     UUID,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX contact_consents_current ON contact_consents (contact_id, channel_kind, purpose, recorded_at, id);
CREATE INDEX contact_consents_history ON contact_consents (contact_id, recorded_at, id);
