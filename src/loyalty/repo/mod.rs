//! All loyalty SQL.
//!
//! Every write that touches a member's points runs in one transaction that
//! locks the member row before it reads or changes points (with
//! [`posting::lock_member`], or with the posting's own update): on PostgreSQL
//! that row lock serialises writers of one member across every node, on SQLite
//! the single writer connection does. The balance is nevertheless changed only
//! by conditional updates (`… WHERE balance >= $1`) against a
//! `CHECK (balance >= 0)`, so even a code path that forgot the lock could not
//! overdraw it.

mod batch;
pub mod expiry;
pub mod hooks;
pub mod ledger;
mod lots;
pub mod members;
pub mod metrics;
pub mod open;
pub mod posting;
pub mod program;
pub mod purchases;
mod queue;
pub mod redemptions;
pub mod rewards;
pub mod tiers;

use uuid::Uuid;

use crate::http::ApiError;

pub(crate) const MEMBER_COLUMNS: &str =
    "id, contact_id, balance, lifetime_points, tier, tier_since, enrolled_at, updated_at";

pub(crate) const ENTRY_SELECT: &str = "SELECT e.id, e.member_id, m.contact_id, e.kind, e.points, e.qualifying_points, \
     e.balance_after, r.reason, e.amount_minor, e.currency, e.reverses_id, e.redemption_id, e.idempotency_key, \
     e.actor_type, e.actor_id, e.created_at \
     FROM loyalty_ledger e JOIN loyalty_members m ON m.id = e.member_id \
     LEFT JOIN loyalty_entry_reasons r ON r.entry_id = e.id";

pub(crate) fn not_a_member(contact_id: Uuid) -> ApiError {
    ApiError::not_found_detail(format!(
        "The contact {contact_id} is not a loyalty member (or does not exist): enrol it with POST /v1/loyalty/members."
    ))
}
