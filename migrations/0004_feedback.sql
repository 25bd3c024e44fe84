-- Feedback (what customers tell the firm), the activity log of its handling,
-- and the working calendar service levels count business days in.

CREATE TABLE feedback (
    id                              UUID PRIMARY KEY,
    kind                            TEXT NOT NULL CHECK (kind IN ('complaint', 'suggestion', 'praise', 'inquiry', 'survey')),
    text                            TEXT,
    csat                            BIGINT CHECK (csat BETWEEN 1 AND 5),
    nps                             BIGINT CHECK (nps BETWEEN 0 AND 10),
    contact_id                      UUID REFERENCES contacts (id),
    account_id                      UUID REFERENCES accounts (id),
    channel_id                      UUID REFERENCES channels (id),
    category                        TEXT,
    priority                        TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assignee_id                     UUID REFERENCES users (id),
    -- NULL exactly for kinds without a workflow (suggestion, praise, survey).
    status                          TEXT CHECK (status IN ('new', 'acknowledged', 'in_progress', 'waiting_on_customer',
                                        'resolved', 'closed')),
    received_at                     TIMESTAMPTZ NOT NULL,
    -- Service levels (complaints and inquiries only). The *_risk_at times are
    -- where less than 20% of a window is left; sla_state compares them with now.
    first_response_target_minutes   BIGINT,
    resolution_target_business_days BIGINT,
    first_response_due_at           TIMESTAMPTZ,
    first_response_risk_at          TIMESTAMPTZ,
    resolution_due_at               TIMESTAMPTZ,
    resolution_risk_at              TIMESTAMPTZ,
    first_responded_at              TIMESTAMPTZ,
    -- Durations kept as whole seconds so metrics average them portably.
    first_response_seconds          BIGINT CHECK (first_response_seconds >= 0),
    resolved_at                     TIMESTAMPTZ,
    resolution_seconds              BIGINT CHECK (resolution_seconds >= 0),
    closed_at                       TIMESTAMPTZ,
    resolution                      TEXT,
    -- Set while waiting on the customer: the resolution clock is stopped.
    paused_at                       TIMESTAMPTZ,
    -- Total microseconds of finished waits: the resolution due time moved later by exactly this.
    paused_micros                   BIGINT NOT NULL CHECK (paused_micros >= 0),
    reopen_count                    BIGINT NOT NULL,
    version                         BIGINT NOT NULL,
    created_at                      TIMESTAMPTZ NOT NULL,
    updated_at                      TIMESTAMPTZ NOT NULL,
    CHECK ((status IS NULL) = (kind NOT IN ('complaint', 'inquiry')))
);
-- Lists read newest first by (received_at, id) within one of these; the
-- metrics scan a period of received_at (by kind for service levels); the
-- timelines read a contact's or an account's items.
CREATE INDEX feedback_received ON feedback (received_at, id);
CREATE INDEX feedback_updated ON feedback (updated_at, id);
CREATE INDEX feedback_kind ON feedback (kind, received_at, id);
CREATE INDEX feedback_status ON feedback (status, received_at, id);
CREATE INDEX feedback_priority ON feedback (priority, received_at, id);
CREATE INDEX feedback_category ON feedback (category, received_at, id);
CREATE INDEX feedback_assignee ON feedback (assignee_id, received_at, id);
CREATE INDEX feedback_contact ON feedback (contact_id, received_at, id);
CREATE INDEX feedback_account ON feedback (account_id, received_at, id);
-- An account's timeline also reads its contacts' items tied to no account.
CREATE INDEX feedback_contact_no_account ON feedback (contact_id, received_at, id) WHERE account_id IS NULL;
CREATE INDEX feedback_channel ON feedback (channel_id, received_at, id);

CREATE TABLE feedback_activities (
    id           UUID PRIMARY KEY,
    feedback_id  UUID NOT NULL REFERENCES feedback (id),
    occurred_at  TIMESTAMPTZ NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('transition', 'assignment', 'comment')),
    visibility   TEXT NOT NULL CHECK (visibility IN ('internal', 'customer')),
    note         TEXT,
    from_status  TEXT,
    to_status    TEXT,
    assignee_id  UUID,
    actor_type   TEXT NOT NULL,
    actor_id     UUID
);
CREATE INDEX feedback_activities_feedback ON feedback_activities (feedback_id, occurred_at, id);

-- One row at most ('default'); absent means Monday–Friday in UTC, no holidays.
CREATE TABLE service_calendar (
    id                 TEXT PRIMARY KEY CHECK (id = 'default'),
    time_zone          TEXT NOT NULL,
    working_days       JSONB NOT NULL,
    holidays           JSONB NOT NULL,
    extra_working_days JSONB NOT NULL,
    version            BIGINT NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
