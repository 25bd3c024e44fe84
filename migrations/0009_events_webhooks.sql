-- The event log (a transactional outbox) and webhooks. See src/events and
-- src/webhooks.
--
-- An event is written in the transaction of the change it describes, so a
-- rolled-back change leaves no event. Its place in the feed is (tx_id, seq):
-- on PostgreSQL tx_id is the writing transaction's id and the feed only hands
-- out events of transactions older than every one still running (below
-- pg_snapshot_xmin), so an event that commits late is never skipped; on
-- SQLite, whose single writer commits transactions one after the other,
-- tx_id is 0 and seq alone is commit order.
CREATE TABLE events (
    tx_id       BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    id          UUID NOT NULL UNIQUE,
    type        TEXT NOT NULL,
    -- The API area whose read scope sees the event (contacts, feedback, …).
    area        TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    data        JSONB NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    UUID,
    -- The contact the event is about, if any: erasure blanks its events.
    contact_id  UUID,
    PRIMARY KEY (tx_id, seq)
);
CREATE INDEX events_occurred ON events (occurred_at);
CREATE INDEX events_contact ON events (contact_id) WHERE contact_id IS NOT NULL;

-- What pruning removed: a cursor at or before this place lost events (410).
CREATE TABLE event_log (
    id               BIGINT PRIMARY KEY CHECK (id = 1),
    pruned_tx_id     BIGINT NOT NULL,
    pruned_seq       BIGINT NOT NULL,
    -- Where the webhook dispatcher has fanned the feed out to endpoints.
    dispatched_tx_id BIGINT NOT NULL,
    dispatched_seq   BIGINT NOT NULL
);
INSERT INTO event_log (id, pruned_tx_id, pruned_seq, dispatched_tx_id, dispatched_seq) VALUES (1, -1, 0, -1, 0);

CREATE TABLE webhook_endpoints (
    id                  UUID PRIMARY KEY,
    url                 TEXT NOT NULL,
    description         TEXT,
    -- A JSON array of event types; NULL for every type.
    event_types         JSONB,
    enabled             BOOLEAN NOT NULL,
    disabled_reason     TEXT,
    -- Signing secrets, sealed with the server's key (see auth::secret).
    secret              TEXT NOT NULL,
    previous_secret     TEXT,
    previous_expires_at TIMESTAMPTZ,
    version             BIGINT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

-- One event to one endpoint: attempted until it succeeds or the schedule ends.
CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    endpoint_id     UUID NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        UUID NOT NULL,
    -- pending, succeeded, failed
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        BIGINT NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    -- A node working on the delivery holds it until then; after that (the node
    -- died) another node takes it.
    locked_until    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_attempts (
    id            UUID PRIMARY KEY,
    delivery_id   UUID NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at  TIMESTAMPTZ NOT NULL,
    status_code   BIGINT,
    duration_ms   BIGINT NOT NULL,
    error         TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempted_at);

-- Service-level events are emitted once each, by a scheduled job that
-- watches the open items not yet breached (the index keeps that to the
-- working set, however much history the table holds).
ALTER TABLE feedback ADD COLUMN sla_at_risk_emitted_at TIMESTAMPTZ;
ALTER TABLE feedback ADD COLUMN sla_breached_emitted_at TIMESTAMPTZ;
CREATE INDEX feedback_sla_watch ON feedback (received_at)
    WHERE status IS NOT NULL AND resolved_at IS NULL AND sla_breached_emitted_at IS NULL;
