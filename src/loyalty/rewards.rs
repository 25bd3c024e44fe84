//! Rewards (what points buy) and redemptions (a member buying one).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::{
    ApiError, FieldError,
    check::Check,
    patch::{MergePatch, Patch},
};

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

impl RewardIn {
    /// The checks every reward passes, new or patched: every invalid field at
    /// once; the name trimmed, a blank description dropped.
    pub fn checked(self) -> Result<RewardIn, ApiError> {
        let mut check = Check::validated(&self);
        let name = self.name.trim().to_string();
        if name.is_empty() && !check.has("name") {
            check.fail("name", "required", "must not be blank");
        }
        check.finish()?;
        let description = self
            .description
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty());
        Ok(RewardIn {
            name,
            description,
            ..self
        })
    }
}

impl Reward {
    /// The reward as a create would have sent it (what a patch applies to).
    pub fn to_input(&self) -> RewardIn {
        RewardIn {
            name: self.name.clone(),
            description: self.description.clone(),
            cost_points: self.cost_points,
            stock: self.stock,
            active: Some(self.active),
        }
    }
}

/// Changes to a reward (JSON merge patch: absent fields stay as they are,
/// `null` clears `description` or makes `stock` unlimited). The result is
/// checked as a new reward.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"stock": 100, "active": true}))]
pub struct RewardPatch {
    #[schema(value_type = String)]
    pub name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    #[schema(value_type = i64)]
    pub cost_points: Patch<i64>,
    #[schema(value_type = Option<i64>)]
    pub stock: Patch<i64>,
    #[schema(value_type = bool)]
    pub active: Patch<bool>,
}

impl MergePatch<RewardIn> for RewardPatch {
    fn merge_into(self, current: RewardIn, errors: &mut Vec<FieldError>) -> RewardIn {
        RewardIn {
            name: self.name.apply_required(current.name, "name", errors),
            description: self.description.apply(current.description),
            cost_points: self.cost_points.apply_required(
                current.cost_points,
                "cost_points",
                errors,
            ),
            stock: self.stock.apply(current.stock),
            active: self.active.apply_present(current.active, "active", errors),
        }
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

#[derive(Clone, sqlx::FromRow)]
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
    use crate::http::patch::patched;

    fn reward() -> Reward {
        Reward {
            id: Uuid::now_v7(),
            name: "Coffee voucher".into(),
            description: Some("One hot drink".into()),
            cost_points: 150,
            stock: Some(40),
            active: true,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn patch(text: &str) -> RewardPatch {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn null_makes_stock_unlimited_and_absent_keeps_it() {
        let merged = patched(reward().to_input(), patch(r#"{"stock": null}"#)).unwrap();
        assert_eq!(merged.stock, None);
        assert_eq!(merged.description.as_deref(), Some("One hot drink"));
        let merged = patched(reward().to_input(), patch(r#"{"stock": 5}"#)).unwrap();
        assert_eq!(merged.stock, Some(5));
    }

    #[test]
    fn a_patch_is_checked_like_a_new_reward() {
        let merged = patched(
            reward().to_input(),
            patch(r#"{"cost_points": 0, "stock": -1, "name": " "}"#),
        )
        .unwrap();
        let fields: Vec<String> = merged
            .checked()
            .unwrap_err()
            .to_problem()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["cost_points", "name", "stock"]);
    }

    #[test]
    fn a_required_field_cannot_be_cleared() {
        let err = patched(reward().to_input(), patch(r#"{"name": null}"#)).unwrap_err();
        assert_eq!(err.to_problem().errors[0].field, "name");
    }
}
