use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// The current time, truncated to microseconds: PostgreSQL keeps microseconds,
/// so truncating here makes ETags, equality and keyset cursors agree on both
/// engines.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A new time-ordered id (UUIDv7).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
