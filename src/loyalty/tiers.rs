//! Plain rules of the programme: the tier a number of points reaches, the
//! points an amount earns, when a lot expires, where a rolling window starts.

use super::program::{EarnRate, Tier};
use chrono::{DateTime, Months, Utc};

/// Where a member stands among the tiers.
#[derive(Debug, PartialEq, Eq)]
pub struct Standing {
    pub tier: String,
    pub next_tier: Option<String>,
    pub points_to_next_tier: Option<i64>,
}

/// The tier for `points` (the highest whose `min_points` is reached; the first
/// tier for anything below) and the distance to the next one.
pub fn standing(tiers: &[Tier], points: i64) -> Standing {
    let reached = tiers
        .iter()
        .rposition(|t| t.min_points <= points)
        .unwrap_or(0);
    let next = tiers.get(reached + 1);
    Standing {
        tier: tiers
            .get(reached)
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        next_tier: next.map(|t| t.name.clone()),
        points_to_next_tier: next.map(|t| t.min_points - points),
    }
}

/// Points earned by an amount in minor units, rounded down; `None` when the
/// result does not fit.
pub fn points_for_amount(rate: &EarnRate, amount_minor: i64) -> Option<i64> {
    let points =
        i128::from(amount_minor) * i128::from(rate.points) / i128::from(rate.per_amount_minor);
    i64::try_from(points).ok()
}

/// When points earned at `earned_at` expire under `expiry_months`.
pub fn lot_expiry(earned_at: DateTime<Utc>, expiry_months: Option<i64>) -> Option<DateTime<Utc>> {
    let months = u32::try_from(expiry_months?).ok()?;
    earned_at.checked_add_months(Months::new(months))
}

/// The start of a rolling tier window ending at `now`.
pub fn window_start(now: DateTime<Utc>, months: i64) -> DateTime<Utc> {
    u32::try_from(months)
        .ok()
        .and_then(|m| now.checked_sub_months(Months::new(m)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
