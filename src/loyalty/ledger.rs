//! Ledger entries: the append-only record of every change to a member's
//! points, and the requests that write them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::{ApiError, FieldError};

crate::choice! {
    /// What an entry did.
    pub enum EntryKind {
        /// Points earned (positive).
        Earn = "earn",
        /// Points spent (negative).
        Redeem = "redeem",
        /// A manual correction by staff (either sign).
        Adjust = "adjust",
        /// Earned points that reached their expiry date (negative).
        Expire = "expire",
        /// The exact opposite of an earlier entry.
        Reverse = "reverse",
    }
}

/// Who wrote an entry.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "api_key", "id": "01937c60-1111-7000-8000-000000000001"}))]
pub struct EntryActor {
    /// `user`, `api_key`, or `system` (expiry, merges).
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's or API key's id; null for `system`.
    pub id: Option<Uuid>,
}

/// Points a lot gave or received in one entry.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
#[schema(example = json!({"lot_id": "01937c62-0000-7000-8000-00000000000a", "points": 40, "expires_at": "2027-03-01T12:00:00Z"}))]
pub struct LotMovement {
    pub lot_id: Uuid,
    /// Always positive: added to the lot (credits) or taken from it (debits).
    pub points: i64,
    /// When the lot's remaining points expire; null = never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// One ledger entry. Entries are never changed or deleted; a mistake is
/// undone by a `reverse` entry.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c62-1234-7000-8000-000000000001", "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20",
    "kind": "redeem", "points": -50, "qualifying_points": 0, "balance_after": 70, "reason": "Coffee voucher",
    "amount_minor": null, "currency": null, "reverses_entry_id": null, "redemption_id": null,
    "idempotency_key": "till-7-receipt-1182", "actor": {"type": "api_key", "id": "01937c60-1111-7000-8000-000000000001"},
    "created_at": "2026-11-03T14:00:00Z",
    "lots": [{"lot_id": "01937c62-0000-7000-8000-00000000000a", "points": 40, "expires_at": "2027-03-01T12:00:00Z"},
             {"lot_id": "01937c62-0000-7000-8000-00000000000b", "points": 10, "expires_at": "2027-04-11T09:00:00Z"}]
}))]
pub struct LedgerEntry {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub kind: EntryKind,
    /// Signed change to the balance: earn +, redeem −, adjust ±, expire −,
    /// reverse the opposite of the entry it reverses.
    pub points: i64,
    /// Signed change to `lifetime_points`: earnings and adjustments count,
    /// redemptions and expiry do not.
    pub qualifying_points: i64,
    /// The member's balance right after this entry.
    pub balance_after: i64,
    /// Null when none was given, or after the contact was erased.
    pub reason: Option<String>,
    /// For earnings posted as an amount: the amount in minor units.
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// For `reverse` entries: the entry reversed.
    pub reverses_entry_id: Option<Uuid>,
    /// Set when a reward redemption (or its cancellation) wrote this entry.
    pub redemption_id: Option<Uuid>,
    /// The `Idempotency-Key` of the request that wrote the entry (system
    /// entries have keys starting with `rapport `).
    pub idempotency_key: String,
    pub actor: EntryActor,
    pub created_at: DateTime<Utc>,
    /// The lots this entry credited or took its points from (oldest expiry
    /// first). Present on single entries and write responses; omitted in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lots: Option<Vec<LotMovement>>,
}

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct EntryRow {
    pub id: Uuid,
    pub member_id: Uuid,
    pub contact_id: Uuid,
    pub kind: EntryKind,
    pub points: i64,
    pub qualifying_points: i64,
    pub balance_after: i64,
    pub reason: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub reverses_id: Option<Uuid>,
    pub redemption_id: Option<Uuid>,
    pub idempotency_key: String,
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl EntryRow {
    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    pub fn into_entry(self, lots: Option<Vec<LotMovement>>) -> LedgerEntry {
        LedgerEntry {
            kind: self.kind(),
            id: self.id,
            contact_id: self.contact_id,
            points: self.points,
            qualifying_points: self.qualifying_points,
            balance_after: self.balance_after,
            reason: self.reason,
            amount_minor: self.amount_minor,
            currency: self.currency,
            reverses_entry_id: self.reverses_id,
            redemption_id: self.redemption_id,
            idempotency_key: self.idempotency_key,
            actor: EntryActor {
                kind: self.actor_type,
                id: self.actor_id,
            },
            created_at: self.created_at,
            lots,
        }
    }
}

/// Points to earn: either `points`, or `amount_minor` + `currency` converted
/// with the programme's earn rate (rounded down).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_minor": 4599, "currency": "EUR", "reason": "Order 1182"}))]
pub struct EarnIn {
    /// Points to credit, 1 to 1,000,000,000. Give this or `amount_minor`.
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub points: Option<i64>,
    /// A purchase amount in minor units (cents); give `currency` with it.
    #[validate(range(min = 1, max = 1_000_000_000_000_000i64))]
    pub amount_minor: Option<i64>,
    /// ISO 4217 code; must be the programme's earn-rate currency.
    pub currency: Option<String>,
    /// Why, e.g. an order number; up to 500 characters.
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// Points to spend.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"points": 50, "reason": "Coffee voucher"}))]
pub struct RedeemIn {
    /// 1 to 1,000,000,000; refused with 409 when above the balance.
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub points: i64,
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// A manual correction.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"points": -200, "reason": "Duplicate earning for order 1182"}))]
pub struct AdjustIn {
    /// Non-zero, −1,000,000,000 to 1,000,000,000. A negative adjustment is
    /// refused with 409 when above the balance.
    #[validate(range(min = -1_000_000_000, max = 1_000_000_000))]
    pub points: i64,
    /// Required: why the points are corrected, up to 500 characters.
    #[validate(length(min = 1, max = 500))]
    pub reason: String,
}

/// Why an entry is reversed.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Order 1182 refunded"}))]
pub struct ReverseIn {
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerParams {
    /// Only entries written at or before this moment, and `balance` as it was then.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub as_of: Option<DateTime<Utc>>,
    /// Only entries of this kind.
    pub kind: Option<EntryKind>,
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of ledger entries, newest first, with the balance at `as_of`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "as_of": "2026-11-01T00:00:00Z", "balance": 120,
    "data": [], "next_cursor": null
}))]
pub struct LedgerPage {
    pub contact_id: Uuid,
    /// The `as_of` asked for; null for now.
    pub as_of: Option<DateTime<Utc>>,
    /// The balance at `as_of` (or now): the sum of every entry up to then.
    pub balance: i64,
    pub data: Vec<LedgerEntry>,
    /// Pass as `?cursor=` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The earn request, resolved against the programme: `(points, amount)`.
pub fn earned_points(
    input: &EarnIn,
    rate: &super::program::EarnRate,
) -> Result<(i64, Option<(i64, String)>), ApiError> {
    match (input.points, input.amount_minor, input.currency.as_deref()) {
        (Some(points), None, None) => Ok((points, None)),
        (None, Some(amount), Some(currency)) => {
            let currency = currency.trim().to_ascii_uppercase();
            if currency != rate.currency {
                return Err(ApiError::field(
                    "currency",
                    "unsupported_currency",
                    format!(
                        "must be {}, the currency of the programme's earn rate",
                        rate.currency
                    ),
                ));
            }
            let points =
                super::program::points_for_amount(rate, amount).filter(|p| *p <= 1_000_000_000);
            match points {
                Some(p) if p > 0 => Ok((p, Some((amount, currency)))),
                Some(_) => Err(ApiError::field(
                    "amount_minor",
                    "below_earn_rate",
                    format!(
                        "earns no points: the programme gives {} point(s) per {} minor units of {}",
                        rate.points, rate.per_amount_minor, rate.currency
                    ),
                )),
                None => Err(ApiError::field(
                    "amount_minor",
                    "range",
                    "earns more than 1,000,000,000 points",
                )),
            }
        }
        (None, Some(_), None) => Err(ApiError::field(
            "currency",
            "required",
            "is required with amount_minor",
        )),
        (None, None, Some(_)) => Err(ApiError::field(
            "amount_minor",
            "required",
            "is required with currency",
        )),
        (None, None, None) => Err(ApiError::validation(vec![FieldError::new(
            "points",
            "required",
            "give either points, or amount_minor and currency",
        )])),
        (Some(_), _, _) => Err(ApiError::field(
            "points",
            "exclusive",
            "give either points, or amount_minor and currency, not both",
        )),
    }
}

/// Normalises a free-text reason: trimmed, blank = none.
pub fn clean_reason(reason: Option<&str>) -> Option<String> {
    reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loyalty::program::EarnRate;

    fn rate() -> EarnRate {
        EarnRate {
            currency: "EUR".into(),
            points: 1,
            per_amount_minor: 100,
        }
    }

    fn earn(points: Option<i64>, amount: Option<i64>, currency: Option<&str>) -> EarnIn {
        EarnIn {
            points,
            amount_minor: amount,
            currency: currency.map(str::to_string),
            reason: None,
        }
    }

    #[test]
    fn points_are_taken_as_given() {
        assert_eq!(
            earned_points(&earn(Some(70), None, None), &rate()).unwrap(),
            (70, None)
        );
    }

    #[test]
    fn an_amount_is_converted_with_the_earn_rate() {
        let (points, amount) =
            earned_points(&earn(None, Some(4599), Some("eur")), &rate()).unwrap();
        assert_eq!(points, 45);
        assert_eq!(amount, Some((4599, "EUR".to_string())));
    }

    #[test]
    fn an_amount_in_another_currency_or_too_small_is_refused() {
        assert!(earned_points(&earn(None, Some(4599), Some("USD")), &rate()).is_err());
        assert!(earned_points(&earn(None, Some(99), Some("EUR")), &rate()).is_err());
    }

    #[test]
    fn points_and_amount_are_exclusive_and_one_is_required() {
        assert!(earned_points(&earn(Some(1), Some(100), Some("EUR")), &rate()).is_err());
        assert!(earned_points(&earn(None, None, None), &rate()).is_err());
        assert!(earned_points(&earn(None, Some(100), None), &rate()).is_err());
    }

    #[test]
    fn blank_reasons_are_none() {
        assert_eq!(clean_reason(Some("  ")), None);
        assert_eq!(clean_reason(Some(" Order 7 ")), Some("Order 7".into()));
    }
}
