-- Customer effort score (CES) on feedback: 1 (very low effort, the best
-- answer) to 7 (very high effort). A survey answer carries csat, nps, ces or
-- any mix of them.
ALTER TABLE feedback ADD COLUMN ces BIGINT CHECK (ces BETWEEN 1 AND 7);

-- The loyalty figures (`GET /v1/metrics/loyalty`) read the ledger entries
-- written in a period, across members.
CREATE INDEX loyalty_ledger_created ON loyalty_ledger (created_at, kind);
