use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::{
    choice,
    domain::CurrencyCode,
    http::{
        ApiError,
        check::{Check, trimmed},
    },
    interactions::rules,
};

choice! {
    /// Money in (`purchase`) or back out (`refund`).
    pub enum TransactionKind {
        Purchase = "purchase",
        Refund = "refund",
    }
}

/// Money a client paid or got back. Append-only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937ca0-0000-7000-8000-000000000001", "kind": "purchase",
    "account_id": "01937c5d-0000-7000-8000-000000000001", "contact_id": "01937c5e-0000-7000-8000-000000000010",
    "engagement_id": "01937c90-0000-7000-8000-000000000001", "amount": 1200000, "currency": "EUR",
    "occurred_at": "2027-02-01T10:00:00Z", "description": "Brand tracker, wave 1", "external_id": "INV-2027-0042",
    "award_points": true, "points": 1200, "created_at": "2027-02-01T10:00:02Z"
}))]
pub struct Transaction {
    pub id: Uuid,
    pub kind: TransactionKind,
    /// The paying client; filled from the contact when only `contact_id` was given (null for a contact with no
    /// account).
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    /// Positive, in minor units of `currency` (1200000 is EUR 12,000.00).
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    pub occurred_at: DateTime<Utc>,
    pub description: Option<String>,
    /// The id in the billing system; unique per account.
    pub external_id: Option<String>,
    /// Whether loyalty points were asked for.
    pub award_points: bool,
    /// With `award_points`: the points a purchase earned, or the points a refund took back (at most the
    /// member's balance then: points already spent stay spent). Null without `award_points`.
    pub points: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TransactionRow {
    pub id: Uuid,
    pub kind: TransactionKind,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub amount: i64,
    pub currency: String,
    pub occurred_at: DateTime<Utc>,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub request_hash: String,
    pub award_points: bool,
    pub points: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub const COLUMNS: &str = "id, kind, account_id, contact_id, engagement_id, amount, currency, occurred_at, \
    description, external_id, request_hash, award_points, points, created_at";

impl TransactionRow {
    pub fn into_transaction(self) -> Transaction {
        Transaction {
            id: self.id,
            kind: self.kind,
            account_id: self.account_id,
            contact_id: self.contact_id,
            engagement_id: self.engagement_id,
            amount: self.amount,
            currency: self.currency,
            occurred_at: self.occurred_at,
            description: self.description,
            external_id: self.external_id,
            award_points: self.award_points,
            points: self.points,
            created_at: self.created_at,
        }
    }
}

/// The largest amount taken: ten trillion minor units.
pub const MAX_AMOUNT: i64 = 10_000_000_000_000;

/// A new transaction, as a billing system posts it.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "purchase", "contact_id": "01937c5e-0000-7000-8000-000000000010",
    "engagement_id": "01937c90-0000-7000-8000-000000000001", "amount": 1200000, "currency": "EUR",
    "occurred_at": "2027-02-01T10:00:00Z", "description": "Brand tracker, wave 1", "external_id": "INV-2027-0042",
    "award_points": true
}))]
pub struct TransactionIn {
    #[schema(value_type = TransactionKind)]
    #[validate(custom(function = "TransactionKind::validate"))]
    pub kind: String,
    /// The paying client. Give `account_id`, `contact_id` or both; with only a contact, the contact's account is
    /// filled in, and with both the contact must belong to the account.
    #[serde(default)]
    pub account_id: Option<Uuid>,
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    /// An engagement of the same account.
    #[serde(default)]
    pub engagement_id: Option<Uuid>,
    /// Positive, in minor units of `currency`, at most 10,000,000,000,000.
    #[validate(range(
        min = 1,
        max = 10_000_000_000_000i64,
        message = "must be a positive amount in minor units"
    ))]
    pub amount: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// When the money moved (RFC 3339); defaults to now. At most one day in the future.
    #[serde(
        default,
        deserialize_with = "crate::domain::time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Up to 1,000 characters.
    #[serde(default)]
    #[validate(length(max = 1000))]
    pub description: Option<String>,
    /// The id in the billing system, 1–200 characters, unique per account: posting the same `external_id` again
    /// with the same body returns the first transaction (200); with a different body, 409.
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    pub external_id: Option<String>,
    /// On a purchase, earn loyalty points for the contact's membership at the programme's earn rate; on a
    /// refund, take the proportional points back (never more than the balance). Needs `contact_id`, a member,
    /// and the programme's currency. Default false.
    #[serde(default)]
    pub award_points: Option<bool>,
}

/// A transaction's fields, checked and normalised.
#[derive(Debug, Clone)]
pub struct TransactionFields {
    pub kind: TransactionKind,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub amount: i64,
    pub currency: CurrencyCode,
    pub occurred_at: DateTime<Utc>,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub award_points: bool,
    /// Tells a retry of this post (same hash) from a different post with the same `external_id`.
    pub request_hash: String,
}

impl TransactionIn {
    /// Every rule that needs no database, at once. `now` is the default `occurred_at`.
    pub fn into_fields(self, now: DateTime<Utc>) -> Result<TransactionFields, ApiError> {
        let mut check = Check::validated(&self);
        let currency = check.parse("currency", CurrencyCode::parse(&self.currency));
        if let Err(e) = rules::require_party(self.contact_id, self.account_id) {
            check.fail(&e.field, &e.code, "give account_id, contact_id or both");
        }
        let occurred_at = match rules::occurred_at(self.occurred_at, now) {
            Ok(at) => Some(at),
            Err(e) => {
                check.fail(&e.field, &e.code, e.message);
                None
            }
        };
        let award_points = self.award_points.unwrap_or(false);
        if award_points && self.contact_id.is_none() {
            check.fail(
                "award_points",
                "contact_required",
                "needs contact_id: points go to the contact's loyalty membership",
            );
        }
        let request_hash = request_hash(&self);
        check.finish()?;
        let (Some(currency), Some(occurred_at)) = (currency, occurred_at) else {
            return Err(ApiError::internal(
                "a checked transaction lacks its currency or time",
            ));
        };
        Ok(TransactionFields {
            kind: TransactionKind::parse(&self.kind).unwrap_or(TransactionKind::Purchase),
            account_id: self.account_id,
            contact_id: self.contact_id,
            engagement_id: self.engagement_id,
            amount: self.amount,
            currency,
            occurred_at,
            description: trimmed(self.description),
            external_id: trimmed(self.external_id),
            award_points,
            request_hash,
        })
    }
}

/// A digest of the post as sent (values normalised, absent fields left out),
/// so a retry that omits `occurred_at` still matches the first post.
fn request_hash(input: &TransactionIn) -> String {
    let normal = TransactionIn {
        kind: input.kind.trim().to_string(),
        currency: input.currency.trim().to_ascii_uppercase(),
        description: trimmed(input.description.clone()),
        external_id: trimmed(input.external_id.clone()),
        award_points: Some(input.award_points.unwrap_or(false)),
        occurred_at: input
            .occurred_at
            .map(|t| chrono::SubsecRound::trunc_subsecs(t, 6)),
        ..input.clone()
    };
    let bytes = serde_json::to_vec(&normal).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: serde_json::Value) -> TransactionIn {
        serde_json::from_value(v).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2027-03-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_retry_without_a_time_has_the_same_hash_and_any_change_another() {
        let base = json!({"kind": "purchase", "account_id": Uuid::nil(), "amount": 100, "currency": "eur", "external_id": "A"});
        let first = input(base.clone()).into_fields(now()).unwrap();
        let later = input(base.clone())
            .into_fields(now() + chrono::Duration::hours(1))
            .unwrap();
        assert_eq!(first.request_hash, later.request_hash);
        let mut other = base.clone();
        other["amount"] = json!(101);
        assert_ne!(
            first.request_hash,
            input(other).into_fields(now()).unwrap().request_hash
        );
        let mut upper = base;
        upper["currency"] = json!("EUR");
        assert_eq!(
            first.request_hash,
            input(upper).into_fields(now()).unwrap().request_hash
        );
    }

    #[test]
    fn every_broken_rule_is_reported_together() {
        let err =
            input(json!({"kind": "gift", "amount": 0, "currency": "EURO", "award_points": true}))
                .into_fields(now())
                .unwrap_err();
        let problem = err.to_problem();
        let mut fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            ["amount", "award_points", "contact_id", "currency", "kind"]
        );
    }
}
