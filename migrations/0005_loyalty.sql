-- Loyalty programme: settings, members, an append-only ledger of points, the
-- lots that earnings create (for FIFO redemption and expiry), tier history,
-- rewards and redemptions.
--
-- Invariants the database enforces on its own:
--   * a member's balance is never negative (CHECK), and redemptions subtract
--     with a conditional UPDATE, so concurrent writers on any number of nodes
--     cannot overdraw it;
--   * a ledger write is applied once per (member, Idempotency-Key) (UNIQUE);
--   * an entry is reversed at most once (partial UNIQUE);
--   * a lot never gives out more than it holds (CHECK on remaining);
--   * a reward's stock is never negative (CHECK).
-- Ledger rows are never updated or deleted. Their free-text reasons live in
-- loyalty_entry_reasons, so erasing a contact can drop the text while every
-- amount stays.

CREATE TABLE loyalty_program (
    id                    BIGINT PRIMARY KEY CHECK (id = 1),
    name                  TEXT NOT NULL,
    earn_currency         TEXT NOT NULL,
    earn_points           BIGINT NOT NULL CHECK (earn_points > 0),
    earn_per_amount_minor BIGINT NOT NULL CHECK (earn_per_amount_minor > 0),
    tiers                 JSONB NOT NULL,
    tier_basis            TEXT NOT NULL CHECK (tier_basis IN ('lifetime', 'rolling')),
    tier_window_months    BIGINT CHECK (tier_window_months > 0),
    expiry_months         BIGINT CHECK (expiry_months > 0),
    version               BIGINT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

-- A membership. When two members are merged, the duplicate keeps its history,
-- points to the survivor in merged_into and moves to the survivor's contact.
CREATE TABLE loyalty_members (
    id              UUID PRIMARY KEY,
    contact_id      UUID NOT NULL REFERENCES contacts (id),
    balance         BIGINT NOT NULL CHECK (balance >= 0),
    lifetime_points BIGINT NOT NULL,
    tier            TEXT NOT NULL,
    tier_since      TIMESTAMPTZ NOT NULL,
    merged_into     UUID REFERENCES loyalty_members (id),
    enrolled_at     TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX loyalty_members_contact_live ON loyalty_members (contact_id) WHERE merged_into IS NULL;
CREATE INDEX loyalty_members_contact ON loyalty_members (contact_id, id);
CREATE INDEX loyalty_members_tier ON loyalty_members (tier, id) WHERE merged_into IS NULL;

CREATE TABLE loyalty_ledger (
    id                UUID PRIMARY KEY,
    member_id         UUID NOT NULL REFERENCES loyalty_members (id),
    kind              TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'adjust', 'expire', 'reverse')),
    points            BIGINT NOT NULL,
    qualifying_points BIGINT NOT NULL,
    balance_after     BIGINT NOT NULL CHECK (balance_after >= 0),
    idempotency_key   TEXT NOT NULL,
    reverses_id       UUID REFERENCES loyalty_ledger (id),
    -- Set on the redeem entry of a reward redemption and on its cancellation;
    -- no foreign key because the entry is written before the redemption row.
    redemption_id     UUID,
    amount_minor      BIGINT,
    currency          TEXT,
    actor_type        TEXT NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
    actor_id          UUID,
    created_at        TIMESTAMPTZ NOT NULL,
    CHECK (points <> 0 OR qualifying_points <> 0),
    CHECK (kind <> 'earn' OR points > 0),
    CHECK (kind NOT IN ('redeem', 'expire') OR points < 0),
    CHECK ((kind = 'reverse') = (reverses_id IS NOT NULL)),
    UNIQUE (member_id, idempotency_key)
);
CREATE UNIQUE INDEX loyalty_ledger_reversed_once ON loyalty_ledger (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX loyalty_ledger_member ON loyalty_ledger (member_id, created_at, id);
CREATE INDEX loyalty_ledger_member_kind ON loyalty_ledger (member_id, kind, created_at, id);

CREATE TABLE loyalty_entry_reasons (
    entry_id UUID PRIMARY KEY REFERENCES loyalty_ledger (id),
    reason   TEXT NOT NULL
);

-- Points credited by one entry; debits take from the oldest-expiring first.
CREATE TABLE loyalty_lots (
    id         UUID PRIMARY KEY,
    member_id  UUID NOT NULL REFERENCES loyalty_members (id),
    entry_id   UUID NOT NULL REFERENCES loyalty_ledger (id),
    points     BIGINT NOT NULL CHECK (points > 0),
    remaining  BIGINT NOT NULL CHECK (remaining >= 0 AND remaining <= points),
    expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX loyalty_lots_open ON loyalty_lots (member_id, expires_at, created_at, id) WHERE remaining > 0;
CREATE INDEX loyalty_lots_due ON loyalty_lots (expires_at, member_id) WHERE remaining > 0;
CREATE INDEX loyalty_lots_entry ON loyalty_lots (entry_id, id);

-- Which lots a debit took its points from.
CREATE TABLE loyalty_lot_uses (
    entry_id UUID NOT NULL REFERENCES loyalty_ledger (id),
    lot_id   UUID NOT NULL REFERENCES loyalty_lots (id),
    points   BIGINT NOT NULL CHECK (points > 0),
    PRIMARY KEY (entry_id, lot_id)
);
CREATE INDEX loyalty_lot_uses_lot ON loyalty_lot_uses (lot_id);

CREATE TABLE loyalty_tier_changes (
    id          UUID PRIMARY KEY,
    member_id   UUID NOT NULL REFERENCES loyalty_members (id),
    from_tier   TEXT,
    to_tier     TEXT NOT NULL,
    tier_points BIGINT NOT NULL,
    entry_id    UUID REFERENCES loyalty_ledger (id),
    occurred_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX loyalty_tier_changes_member ON loyalty_tier_changes (member_id, occurred_at, id);

CREATE TABLE loyalty_rewards (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT,
    cost_points BIGINT NOT NULL CHECK (cost_points > 0),
    stock       BIGINT CHECK (stock >= 0),
    active      BOOLEAN NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    deleted_at  TIMESTAMPTZ
);
CREATE INDEX loyalty_rewards_active ON loyalty_rewards (active, id) WHERE deleted_at IS NULL;

CREATE TABLE loyalty_redemptions (
    id              UUID PRIMARY KEY,
    member_id       UUID NOT NULL REFERENCES loyalty_members (id),
    reward_id       UUID NOT NULL REFERENCES loyalty_rewards (id),
    points          BIGINT NOT NULL CHECK (points > 0),
    status          TEXT NOT NULL CHECK (status IN ('completed', 'cancelled')),
    entry_id        UUID NOT NULL UNIQUE REFERENCES loyalty_ledger (id),
    cancel_entry_id UUID UNIQUE REFERENCES loyalty_ledger (id),
    created_at      TIMESTAMPTZ NOT NULL,
    cancelled_at    TIMESTAMPTZ
);
CREATE INDEX loyalty_redemptions_member ON loyalty_redemptions (member_id, id);
CREATE INDEX loyalty_redemptions_reward ON loyalty_redemptions (reward_id, id);
CREATE INDEX loyalty_redemptions_status ON loyalty_redemptions (status, id);

-- Loyalty events for the customer timeline, one row per ledger entry or tier
-- change, addressed by contact (members merged into a survivor carry the
-- survivor's contact_id, so its timeline shows both histories).
CREATE VIEW loyalty_timeline AS
SELECT m.contact_id AS contact_id,
       'loyalty_entry' AS kind,
       e.id AS id,
       e.created_at AS occurred_at,
       CASE e.kind
           WHEN 'earn' THEN 'Earned ' || CAST(e.points AS TEXT) || ' points'
           WHEN 'redeem' THEN 'Redeemed ' || CAST(-e.points AS TEXT) || ' points'
           WHEN 'expire' THEN CAST(-e.points AS TEXT) || ' points expired'
           WHEN 'adjust' THEN 'Points adjusted by ' || CAST(e.points AS TEXT)
           ELSE 'Reversed an entry: ' || CAST(e.points AS TEXT) || ' points'
       END AS summary,
       e.kind AS detail,
       e.points AS points,
       e.balance_after AS balance_after
FROM loyalty_ledger e
JOIN loyalty_members m ON m.id = e.member_id
UNION ALL
SELECT m.contact_id,
       'loyalty_tier_change',
       t.id,
       t.occurred_at,
       CASE WHEN t.from_tier IS NULL THEN 'Joined the loyalty programme in tier ' || t.to_tier
            ELSE 'Loyalty tier changed from ' || t.from_tier || ' to ' || t.to_tier
       END,
       t.to_tier,
       NULL,
       NULL
FROM loyalty_tier_changes t
JOIN loyalty_members m ON m.id = t.member_id;
