//! Members: contacts enrolled in the programme, with their balance and tier.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// Enrols a contact.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20"}))]
pub struct MemberIn {
    /// An existing contact that is not yet a member.
    pub contact_id: Uuid,
}

/// Points that expire on one date.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
#[schema(example = json!({"points": 120, "expires_at": "2026-12-01T12:00:00Z"}))]
pub struct ExpiringPoints {
    pub points: i64,
    pub expires_at: DateTime<Utc>,
}

/// A member: a contact enrolled in the programme.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c61-0000-7000-8000-000000000001", "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20",
    "balance": 1240, "lifetime_points": 5310, "tier": "Gold", "tier_since": "2026-10-14T08:12:00Z",
    "tier_points": 5310, "next_tier": null, "points_to_next_tier": null,
    "expiring_soon": [{"points": 120, "expires_at": "2026-12-01T12:00:00Z"}],
    "enrolled_at": "2025-02-01T10:00:00Z", "updated_at": "2026-11-03T14:00:00Z"
}))]
pub struct Member {
    /// The membership's own id; the API addresses members by `contact_id`.
    pub id: Uuid,
    pub contact_id: Uuid,
    /// Points available to redeem; never negative.
    pub balance: i64,
    /// Every point earned or adjusted in, minus reversals; spending and
    /// expiry do not reduce it.
    pub lifetime_points: i64,
    /// The member's tier, recomputed on every write.
    pub tier: String,
    /// When the member entered `tier`.
    pub tier_since: DateTime<Utc>,
    /// The points that count towards tiers: `lifetime_points`, or with a
    /// rolling basis the qualifying points earned inside the window.
    pub tier_points: i64,
    /// The next tier up; null at the top.
    pub next_tier: Option<String>,
    /// Tier points still needed for `next_tier`; null at the top.
    pub points_to_next_tier: Option<i64>,
    /// Points that expire in the next 30 days, soonest first.
    pub expiring_soon: Vec<ExpiringPoints>,
    pub enrolled_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member in a list (without the computed standing).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c61-0000-7000-8000-000000000001", "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20",
    "balance": 1240, "lifetime_points": 5310, "tier": "Gold", "tier_since": "2026-10-14T08:12:00Z",
    "enrolled_at": "2025-02-01T10:00:00Z", "updated_at": "2026-11-03T14:00:00Z"
}))]
pub struct MemberSummary {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub balance: i64,
    pub lifetime_points: i64,
    pub tier: String,
    pub tier_since: DateTime<Utc>,
    pub enrolled_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct MemberRow {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub balance: i64,
    pub lifetime_points: i64,
    pub tier: String,
    pub tier_since: DateTime<Utc>,
    pub enrolled_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MemberRow {
    pub fn summary(self) -> MemberSummary {
        MemberSummary {
            id: self.id,
            contact_id: self.contact_id,
            balance: self.balance,
            lifetime_points: self.lifetime_points,
            tier: self.tier,
            tier_since: self.tier_since,
            enrolled_at: self.enrolled_at,
            updated_at: self.updated_at,
        }
    }
}

/// A change of tier.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
#[schema(example = json!({
    "id": "01937c63-0000-7000-8000-000000000001", "from_tier": "Silver", "to_tier": "Gold", "tier_points": 5010,
    "entry_id": "01937c62-1234-7000-8000-000000000001", "occurred_at": "2026-10-14T08:12:00Z"
}))]
pub struct TierChange {
    pub id: Uuid,
    /// Null for the tier a member joined in.
    pub from_tier: Option<String>,
    pub to_tier: String,
    /// The member's tier points at the change.
    pub tier_points: i64,
    /// The ledger entry that caused the change; null when a programme change
    /// or the passing of time did.
    pub entry_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberParams {
    /// Only members in this tier (exact name).
    pub tier: Option<String>,
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
