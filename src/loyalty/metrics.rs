//! Loyalty programme figures over a period (`GET /v1/metrics/loyalty`): the
//! types and the plain rules; the SQL is in `repo::metrics`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Where the activity window ending at `at` starts (exclusive): an account is active at instant `t` when it has
/// a `purchase` with `occurred_at` in `(t − window_days, t]` (the insight setting `activity_window_days`).
/// `None` when that instant does not exist.
pub fn active_since(at: DateTime<Utc>, window_days: i64) -> Option<DateTime<Utc>> {
    at.checked_sub_signed(Duration::try_days(window_days)?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LoyaltyMetricsParams {
    /// Start of the period by the ledger entries' `created_at`, inclusive (RFC 3339); defaults to 30 days before
    /// `to`.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub from: Option<DateTime<Utc>>,
    /// End of the period, exclusive (RFC 3339); defaults to now. Membership and participation are counted at
    /// this instant.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub to: Option<DateTime<Utc>>,
}

/// How many members a tier holds at `to`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierMembers {
    pub tier: String,
    pub members: i64,
}

/// Loyalty programme figures over a period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z", "activity_window_days": 365,
    "members": 120, "active_account_contacts": 400, "active_account_members": 90, "participation": 22.5,
    "points_issued": 48000, "points_redeemed": 12000, "points_expired": 1500, "points_adjusted": -200,
    "redemption_rate": 25.0, "active_members": 64,
    "members_by_tier": [{"tier": "Member", "members": 80}, {"tier": "Silver", "members": 30}, {"tier": "Gold", "members": 10}]
}))]
pub struct LoyaltyMetrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The days a purchase keeps an account active (see `participation`).
    pub activity_window_days: i64,
    /// Members enrolled at `to` (`enrolled_at ≤ to`); memberships merged into another one are not counted.
    pub members: i64,
    /// Contacts (not deleted, created by `to`) of accounts active at `to`: accounts with a `purchase` transaction
    /// in `(to − activity_window_days, to]`.
    pub active_account_contacts: i64,
    /// Of those, the ones that are members at `to`.
    pub active_account_members: i64,
    /// `100 × active_account_members / active_account_contacts`, in percent, two decimals; `null` without
    /// contacts of active accounts.
    pub participation: Option<f64>,
    /// Points earned in the period: `earn` entries, less reversals (in the period) of `earn` entries.
    pub points_issued: i64,
    /// Points spent in the period: `redeem` entries, less reversals of `redeem` entries (cancelled redemptions).
    pub points_redeemed: i64,
    /// Points that expired in the period: `expire` entries.
    pub points_expired: i64,
    /// Net manual corrections in the period: `adjust` entries (either sign) and their reversals. Merging two
    /// members writes a pair of adjustments that cancel out. Counted in none of the three figures above.
    pub points_adjusted: i64,
    /// `100 × points_redeemed / points_issued`, in percent, two decimals; `null` when no points were issued.
    pub redemption_rate: Option<f64>,
    /// Members (people: merged memberships count once) with at least one ledger entry of any kind in the period.
    pub active_members: i64,
    /// Members at `to` per tier, as recorded in each member's tier history at `to`: every tier of the programme
    /// in its order (0 when empty), then any former tier still held, by name.
    pub members_by_tier: Vec<TierMembers>,
}

/// `100 × part / whole` rounded to two decimals; `None` when `whole` is not positive.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (10_000.0 * part as f64 / whole as f64).round() / 100.0)
}

/// The programme's tiers in order with their counts (0 when absent), then tiers no longer in the programme.
pub fn by_tier(programme: &[String], counted: Vec<(String, i64)>) -> Vec<TierMembers> {
    let count_of = |name: &str| {
        counted
            .iter()
            .find(|(t, _)| t == name)
            .map_or(0, |(_, n)| *n)
    };
    let mut out: Vec<TierMembers> = programme
        .iter()
        .map(|t| TierMembers {
            tier: t.clone(),
            members: count_of(t),
        })
        .collect();
    let mut former: Vec<(String, i64)> = counted
        .into_iter()
        .filter(|(t, _)| !programme.contains(t))
        .collect();
    former.sort();
    out.extend(
        former
            .into_iter()
            .map(|(tier, members)| TierMembers { tier, members }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_activity_window_is_365_days_back_from_the_instant() {
        let at: DateTime<Utc> = "2026-06-01T09:00:00Z".parse().unwrap();
        assert_eq!(
            active_since(at, 365),
            Some("2025-06-01T09:00:00Z".parse().unwrap())
        );
        assert_eq!(active_since(DateTime::<Utc>::MIN_UTC, 1), None);
    }

    #[test]
    fn percentages_round_and_are_null_without_a_base() {
        assert_eq!(percent(1, 4), Some(25.0));
        assert_eq!(percent(2, 3), Some(66.67));
        assert_eq!(percent(5, 0), None);
    }

    #[test]
    fn tiers_come_in_programme_order_with_zeros_then_former_ones() {
        let programme = ["Member", "Silver", "Gold"].map(String::from);
        let counted = vec![
            ("Gold".into(), 2),
            ("Bronze".into(), 1),
            ("Member".into(), 5),
        ];
        let out: Vec<(String, i64)> = by_tier(&programme, counted)
            .into_iter()
            .map(|t| (t.tier, t.members))
            .collect();
        assert_eq!(
            out,
            [
                ("Member".to_string(), 5),
                ("Silver".to_string(), 0),
                ("Gold".to_string(), 2),
                ("Bronze".to_string(), 1),
            ]
        );
    }
}
