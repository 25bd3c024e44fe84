-- What GET /v1/metrics/customers reads instead of every transaction of the
-- period and of the activity window before it (issue 15 part 6): a year of
-- 1,000,000 transactions was a second on either engine. Both tables are kept
-- in the transaction of each purchase or refund (src/insights/activity.rs),
-- and built from the transactions when they are missing or out of date.
-- Being derived, they hold no foreign keys: accounts are never deleted (only
-- marked deleted), and checking a million rows' account doubled the build on
-- PostgreSQL.

-- Per account, UTC calendar month, quarter or year, and currency: the
-- purchases, the transactions and their net amount (purchases − refunds).
-- `period_key` counts units from year 0: year × 12 + month − 1 for a month,
-- year × 4 + quarter − 1 for a quarter, the year for a year. A period that
-- does not start or end on a unit's edge reads the transactions of its ends.
CREATE TABLE account_transaction_totals (
    period_unit TEXT NOT NULL CHECK (period_unit IN ('month', 'quarter', 'year')),
    period_key  BIGINT NOT NULL,
    account_id  UUID NOT NULL,
    currency    TEXT NOT NULL,
    purchases   BIGINT NOT NULL,
    transactions BIGINT NOT NULL,
    net_amount  BIGINT NOT NULL
);
-- One row per (period_unit, period_key, account_id, currency): each write
-- updates its account's rows after locking the account's row (the purchase
-- history's UPDATE), so no two writers add the same row. The index holds the
-- counts, so a period's rows are read from it alone, in account order.
CREATE INDEX account_transaction_totals_period ON account_transaction_totals
    (period_unit, period_key, account_id, currency, purchases, transactions, net_amount);

-- Per account, its spells of activity: an account is active at t when it
-- has a purchase in (t − W, t], so each purchase makes it active for W from
-- its time; a spell runs from its first purchase to W after its last, and
-- the next purchase W or more after the last starts a new one. The account
-- is active at t when a spell has `starts_at` ≤ t and `last_purchase_at`
-- > t − W. W is the insight settings' activity window; the spells are
-- rebuilt when it changes.
CREATE TABLE account_activity_spells (
    account_id       UUID NOT NULL,
    starts_at        TIMESTAMPTZ NOT NULL,
    last_purchase_at TIMESTAMPTZ NOT NULL
);
-- Kept like the totals above, under the account's lock; read from the index
-- alone, in account order.
CREATE INDEX account_activity_spells_account ON account_activity_spells (account_id, starts_at, last_purchase_at);

-- One row once both tables are built; `window_days` is the W of the spells.
CREATE TABLE account_activity_built (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    window_days BIGINT NOT NULL
);

-- The complaints of each account, in account order: the customer metrics
-- count them per account from the index alone (SQLite reads a table row for
-- a column the query names, kind and status too), without sorting a year's
-- complaints.
CREATE INDEX feedback_complaints_account ON feedback (account_id, received_at, kind, status)
    WHERE kind = 'complaint' AND status IS NOT NULL AND account_id IS NOT NULL;
