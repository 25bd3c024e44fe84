//! The loyalty points programme: `/v1/loyalty/...`.
//!
//! * `program`: settings (earn rate, tiers, expiry) and the rules they imply.
//! * `members`, `ledger`, `rewards`: request and response types.
//! * `metrics`: the programme's figures over a period (`GET /v1/metrics/loyalty`).
//! * `repo`: all SQL; `repo::posting` is the engine every points change goes
//!   through (lock the member, expire what is due, move balance and lots,
//!   append one entry, re-tier).
//! * `routes`: the handlers.
//!
//! For other modules: [`reassign_contact`] and [`erase_contact`] (contact
//! merge and erasure), [`expire_due_points`] (the `rapport loyalty expire`
//! command and the server's hourly task) and [`TIMELINE_SQL`] (loyalty events
//! for the customer timeline).

pub mod events;
pub mod ledger;
pub mod members;
pub mod metrics;
pub mod program;
pub mod repo;
pub mod rewards;
pub mod routes;
pub mod tiers;

pub use repo::expiry::ExpiryReport;

use crate::{db::Db, http::ApiError};

/// Expires every due lot now; safe to run any number of times, on any node.
pub async fn expire_due_points(db: &Db) -> Result<ExpiryReport, ApiError> {
    repo::expiry::run(db, crate::db::now()).await
}

/// One branch for the customer timeline's `UNION ALL`: loyalty ledger entries
/// and tier changes of contact `$1`, as `(kind, id, occurred_at, summary,
/// detail)`. `kind` is `loyalty_entry` (detail = the entry kind) or
/// `loyalty_tier_change` (detail = the new tier). It reads the
/// `loyalty_timeline` view (migration 0005); for an account's timeline,
/// filter with `contact_id IN (SELECT id FROM contacts WHERE account_id = $1)`.
pub const TIMELINE_SQL: &str =
    "SELECT kind, id, occurred_at, summary, detail FROM loyalty_timeline WHERE contact_id = $1";
