//! Rewards (what points buy) and redemptions (a member buying one).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::FieldError;

/// A reward members can redeem points for.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
#[schema(example = json!({
    "id": "01937c64-0000-7000-8000-000000000001", "name": "Coffee voucher", "description": "One hot drink at any branch",
    "cost_points": 150, "stock": 40, "active": true, "version": 3,
    "created_at": "2026-11-02T09:30:00Z", "updated_at": "2026-11-03T14:00:00Z"
}))]
pub struct Reward {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// Points a redemption costs.
    pub cost_points: i64,
    /// Units left; null = unlimited. Each redemption takes one, each
    /// cancellation gives it back.
    pub stock: Option<i64>,
    /// Inactive rewards cannot be redeemed.
    pub active: bool,
    /// Increases on every change, including every redemption that takes stock.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new reward.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Coffee voucher", "description": "One hot drink at any branch", "cost_points": 150, "stock": 40}))]
pub struct RewardIn {
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[validate(length(max = 2000))]
    pub description: Option<String>,
    /// 1 to 1,000,000,000.
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub cost_points: i64,
    /// Units available, 0 or more; absent or null = unlimited.
    #[validate(range(min = 0, max = 1_000_000_000))]
    pub stock: Option<i64>,
    /// Defaults to true.
    pub active: Option<bool>,
}

/// Changes to a reward (JSON merge patch: absent fields stay as they are,
/// `null` clears `description` or makes `stock` unlimited).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"stock": 100, "active": true}))]
pub struct RewardPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub cost_points: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub stock: Option<Option<i64>>,
    pub active: Option<bool>,
}

/// Merge-patch fields: absent → `None`, `null` → `Some(None)`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl RewardPatch {
    /// The same rules as for a new reward, on the fields present.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(name) = &self.name
            && (name.trim().is_empty() || name.chars().count() > 200)
        {
            errors.push(FieldError::new(
                "name",
                "length",
                "must be between 1 and 200 characters long",
            ));
        }
        if let Some(Some(d)) = &self.description
            && d.chars().count() > 2000
        {
            errors.push(FieldError::new(
                "description",
                "length",
                "must be at most 2000 characters long",
            ));
        }
        if let Some(c) = self.cost_points
            && !(1..=1_000_000_000).contains(&c)
        {
            errors.push(FieldError::new(
                "cost_points",
                "range",
                "must be between 1 and 1000000000",
            ));
        }
        if let Some(Some(s)) = self.stock
            && !(0..=1_000_000_000).contains(&s)
        {
            errors.push(FieldError::new(
                "stock",
                "range",
                "must be between 0 and 1000000000",
            ));
        }
        errors
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RewardParams {
    /// Only active (`true`) or inactive (`false`) rewards.
    pub active: Option<bool>,
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Where a redemption stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RedemptionStatus {
    Completed,
    Cancelled,
}

/// A member's redemption of a reward.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c65-0000-7000-8000-000000000001", "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20",
    "reward_id": "01937c64-0000-7000-8000-000000000001", "points": 150, "status": "completed",
    "entry_id": "01937c62-1234-7000-8000-000000000001", "cancel_entry_id": null, "balance_after": 1090,
    "created_at": "2026-11-03T14:00:00Z", "cancelled_at": null
}))]
pub struct Redemption {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub reward_id: Uuid,
    /// Points paid (the reward's cost at the time).
    pub points: i64,
    pub status: RedemptionStatus,
    /// The `redeem` ledger entry.
    pub entry_id: Uuid,
    /// The `reverse` entry written by a cancellation.
    pub cancel_entry_id: Option<Uuid>,
    /// The member's balance after the latest of those entries.
    pub balance_after: i64,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub struct RedemptionRow {
    pub id: Uuid,
    pub member_id: Uuid,
    pub contact_id: Uuid,
    pub reward_id: Uuid,
    pub points: i64,
    pub status: String,
    pub entry_id: Uuid,
    pub cancel_entry_id: Option<Uuid>,
    pub balance_after: i64,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl RedemptionRow {
    pub fn into_redemption(self) -> Redemption {
        Redemption {
            id: self.id,
            contact_id: self.contact_id,
            reward_id: self.reward_id,
            points: self.points,
            status: if self.status == "cancelled" {
                RedemptionStatus::Cancelled
            } else {
                RedemptionStatus::Completed
            },
            entry_id: self.entry_id,
            cancel_entry_id: self.cancel_entry_id,
            balance_after: self.balance_after,
            created_at: self.created_at,
            cancelled_at: self.cancelled_at,
        }
    }
}

/// Redeems a reward for a member.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "reward_id": "01937c64-0000-7000-8000-000000000001"}))]
pub struct RedemptionIn {
    /// A member's contact id.
    pub contact_id: Uuid,
    /// An active reward with stock left.
    pub reward_id: Uuid,
    /// Written on the ledger entry; defaults to the reward's name.
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// Why a redemption is cancelled.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Voucher returned unused"}))]
pub struct CancelIn {
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RedemptionParams {
    /// Only this member's redemptions.
    pub contact_id: Option<Uuid>,
    /// Only redemptions of this reward.
    pub reward_id: Option<Uuid>,
    pub status: Option<RedemptionStatus>,
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_tells_absent_from_null() {
        let p: RewardPatch = serde_json::from_str(r#"{"stock": null}"#).unwrap();
        assert_eq!(p.stock, Some(None));
        assert_eq!(p.description, None);
        let p: RewardPatch = serde_json::from_str(r#"{"stock": 5, "description": "x"}"#).unwrap();
        assert_eq!(p.stock, Some(Some(5)));
        assert_eq!(p.description, Some(Some("x".into())));
    }

    #[test]
    fn a_patch_is_checked_like_a_new_reward() {
        let p = RewardPatch {
            cost_points: Some(0),
            stock: Some(Some(-1)),
            name: Some(" ".into()),
            ..Default::default()
        };
        let fields: Vec<String> = p.check().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["name", "cost_points", "stock"]);
        assert!(
            RewardPatch {
                stock: Some(None),
                ..Default::default()
            }
            .check()
            .is_empty()
        );
    }
}
