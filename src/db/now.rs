use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The current time on the server's clock (see [`crate::clock`]), truncated to
/// microseconds.
pub fn now() -> DateTime<Utc> {
    crate::clock::now()
}

/// A new time-ordered id (UUIDv7).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
