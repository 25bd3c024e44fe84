-- Access tokens carry the token version of their user; deleting,
-- deactivating or re-roling a user, or changing their password, moves it on,
-- so every token issued before stops working (see src/auth/standing.rs).
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
