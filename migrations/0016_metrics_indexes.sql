-- Indexes that carry every column a metrics query reads, so that both engines
-- answer from the index alone, without reading a table row per item (issue 12
-- item 3, issue 15 part 6). Measured on SQLite, a year over 1,000,000 rows:
-- see the README's benchmark section.

-- The insight queries (src/insights/figures.rs, customers_sql.rs) aggregate
-- each customer's transactions of a window, grouped by the customer. With the
-- kind, currency and amount in the customer's index they are read in customer
-- order: no table reads and no sort for the GROUP BY. The leading columns are
-- the ones these indexes had, so each still serves its customer's transaction
-- list: two wider indexes, no new one.
DROP INDEX transactions_account;
CREATE INDEX transactions_account ON transactions (account_id, occurred_at, id, kind, currency, amount)
    WHERE account_id IS NOT NULL;

DROP INDEX transactions_contact;
CREATE INDEX transactions_contact ON transactions (contact_id, occurred_at, id, kind, currency, amount)
    WHERE contact_id IS NOT NULL;

-- NPS, CSAT and CES (src/feedback/metrics_sql/satisfaction.rs) read only the
-- scored items of a period, with the columns they group and filter by. The
-- condition is the query's, character for character: a planner uses a partial
-- index only when the query's WHERE implies it.
CREATE INDEX feedback_scored ON feedback
    (received_at, nps, csat, ces, kind, channel_id, account_id, engagement_id, priority, category)
    WHERE nps IS NOT NULL OR csat IS NOT NULL OR ces IS NOT NULL;
