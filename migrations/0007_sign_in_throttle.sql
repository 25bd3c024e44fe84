-- Failed sign-ins, counted per account (`account:<email>`) and per client
-- address (`address:<ip>`), so every node on the database throttles the same
-- guesser (see src/auth/sign_in_throttle.rs).
CREATE TABLE sign_in_failures (
    subject         TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failed_at  TIMESTAMPTZ NOT NULL,
    blocked_until   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failed_at);
