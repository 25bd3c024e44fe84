use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::{
    domain::{
        CountryCode, CurrencyCode, Tags,
        custom_fields::validate_custom_fields,
        stages::{LifecycleStage, SizeSegment, ValueTier, size_segment_for},
    },
    http::{
        ApiError,
        check::{Check, trimmed},
    },
    insights::model::ValueTierSource,
    transactions::history::{ActivityRow, CustomerActivity},
};

/// A client organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c61-0000-7000-8000-0000000000a1", "name": "Acme Research GmbH", "domain": "acme.example",
    "industry": "Market research", "country": "DE", "region": "Bavaria", "employee_count": 420,
    "annual_revenue": 5400000000i64, "currency": "EUR", "size_segment": "mid_market", "value_tier": "high",
    "value_tier_source": "manual",
    "lifecycle_stage": "customer", "key_account": true, "owner_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20",
    "tags": ["pharma", "emea"], "custom_fields": {"erp_id": "C-10042"},
    "first_purchase_at": "2025-03-04T10:00:00Z", "last_purchase_at": "2026-10-20T09:00:00Z", "purchase_count": 7,
    "lifetime_revenue": {"EUR": 18400000}, "last_interaction_at": "2026-11-02T09:00:00Z",
    "next_task_due_at": "2026-12-15T09:00:00Z", "version": 3,
    "created_at": "2026-10-01T08:00:00Z", "updated_at": "2026-11-02T09:30:00Z"
}))]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    /// The organisation's web domain, lowercase.
    pub domain: Option<String>,
    pub industry: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub region: Option<String>,
    pub employee_count: Option<i64>,
    /// In minor units of `currency` (cents for EUR): 5400000000 is EUR 54,000,000.00.
    pub annual_revenue: Option<i64>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// Derived from `employee_count` (≥ 1000 enterprise, 100–999 mid_market, < 100 small) unless set explicitly;
    /// null when neither is known.
    pub size_segment: Option<SizeSegment>,
    /// Set by hand, or computed from the account's revenue by the insights refresh (see `value_tier_source`).
    pub value_tier: Option<ValueTier>,
    /// `manual` when set by hand (kept), `computed` otherwise (recomputed; clear `value_tier` to go back to it).
    pub value_tier_source: ValueTierSource,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub key_account: bool,
    /// The user who owns the relationship.
    pub owner_id: Option<Uuid>,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    #[serde(flatten)]
    pub history: CustomerActivity,
    /// Increases on every change; sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: Uuid,
    pub name: String,
    pub domain: Option<String>,
    pub industry: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub employee_count: Option<i64>,
    pub annual_revenue: Option<i64>,
    pub currency: Option<String>,
    pub size_segment: Option<String>,
    pub size_segment_set: bool,
    pub value_tier: Option<String>,
    pub value_tier_source: ValueTierSource,
    pub lifecycle_stage: Option<String>,
    pub key_account: bool,
    pub owner_id: Option<Uuid>,
    pub tags: Json<Vec<String>>,
    pub custom_fields: Json<Map<String, Value>>,
    #[sqlx(flatten)]
    pub history: ActivityRow,
    /// Only for the `churn_risk` sort's cursor (the insights endpoint shows it).
    pub churn_risk: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const COLUMNS: &str = "id, name, domain, industry, country, region, employee_count, annual_revenue, currency, \
    size_segment, size_segment_set, value_tier, value_tier_source, lifecycle_stage, key_account, owner_id, tags, \
    custom_fields, first_purchase_at, last_purchase_at, purchase_count, lifetime_revenue, last_interaction_at, \
    next_task_due_at, churn_risk, \
    version, created_at, updated_at";

impl AccountRow {
    pub fn into_account(self) -> Account {
        Account {
            id: self.id,
            name: self.name,
            domain: self.domain,
            industry: self.industry,
            country: self.country,
            region: self.region,
            employee_count: self.employee_count,
            annual_revenue: self.annual_revenue,
            currency: self.currency,
            size_segment: self.size_segment.as_deref().and_then(SizeSegment::parse),
            value_tier: self.value_tier.as_deref().and_then(ValueTier::parse),
            value_tier_source: self.value_tier_source,
            lifecycle_stage: self
                .lifecycle_stage
                .as_deref()
                .and_then(LifecycleStage::parse),
            key_account: self.key_account,
            owner_id: self.owner_id,
            tags: self.tags.0,
            custom_fields: self.custom_fields.0,
            history: self.history.into(),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The editable fields as a client would send them, for merge-patching.
    pub fn to_input(&self) -> AccountIn {
        let account = self.clone().into_account();
        AccountIn {
            name: account.name,
            domain: account.domain,
            industry: account.industry,
            country: account.country,
            region: account.region,
            employee_count: account.employee_count,
            annual_revenue: account.annual_revenue,
            currency: account.currency,
            size_segment: if self.size_segment_set {
                account.size_segment
            } else {
                None
            },
            // A computed tier is not the firm's input: merging leaves it to the refresh.
            value_tier: match self.value_tier_source {
                ValueTierSource::Manual => account.value_tier,
                ValueTierSource::Computed => None,
            },
            lifecycle_stage: account.lifecycle_stage,
            key_account: Some(account.key_account),
            owner_id: account.owner_id,
            tags: Some(account.tags),
            custom_fields: Some(account.custom_fields),
        }
    }
}

/// A new account.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Acme Research GmbH", "domain": "acme.example", "industry": "Market research", "country": "DE",
    "employee_count": 420, "annual_revenue": 5400000000i64, "currency": "EUR", "value_tier": "high",
    "key_account": true, "tags": ["pharma", "emea"], "custom_fields": {"erp_id": "C-10042"}
}))]
pub struct AccountIn {
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 253))]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 200))]
    pub industry: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`, `CN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 200))]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 0, message = "must be zero or more"))]
    pub employee_count: Option<i64>,
    /// Minor units of `currency`; requires `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 0, message = "must be zero or more"))]
    pub annual_revenue: Option<i64>,
    /// ISO 4217, e.g. `EUR`, `CNY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Set to override the segment derived from `employee_count`; null to derive it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_segment: Option<SizeSegment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_tier: Option<ValueTier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Defaults to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_account: Option<bool>,
    /// An existing user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Uuid>,
    /// Up to 50 tags of 1–64 characters; stored lowercase, duplicates removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// A flat object of scalars: at most 50 keys and 16 KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
}

/// An account's fields, validated and normalised, ready to store.
#[derive(Debug)]
pub struct AccountFields {
    pub name: String,
    pub name_key: String,
    pub domain: Option<String>,
    pub industry: Option<String>,
    pub country: Option<CountryCode>,
    pub region: Option<String>,
    pub employee_count: Option<i64>,
    pub annual_revenue: Option<i64>,
    pub currency: Option<CurrencyCode>,
    pub size_segment: Option<SizeSegment>,
    pub size_segment_set: bool,
    pub value_tier: Option<ValueTier>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub key_account: bool,
    pub owner_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub custom_fields: Map<String, Value>,
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl AccountIn {
    /// Validates every field at once and normalises the values.
    pub fn into_fields(self) -> Result<AccountFields, ApiError> {
        let mut check = Check::validated(&self);
        let name = self.name.trim().to_string();
        if name.is_empty() && !check.has("name") {
            check.fail("name", "required", "must not be blank");
        }
        let domain = trimmed(self.domain).map(|d| d.to_lowercase());
        if domain.as_deref().is_some_and(|d| !valid_domain(d)) {
            check.fail(
                "domain",
                "invalid_domain",
                "must be a domain name such as acme.example",
            );
        }
        let country = check.optional("country", self.country.as_deref(), CountryCode::parse);
        let currency = check.optional("currency", self.currency.as_deref(), CurrencyCode::parse);
        if self.annual_revenue.is_some() && self.currency.is_none() {
            check.fail(
                "currency",
                "required",
                "is required with annual_revenue (ISO 4217, e.g. EUR)",
            );
        }
        let tags = check
            .parse("tags", Tags::parse(self.tags.unwrap_or_default()))
            .map(Tags::into_vec)
            .unwrap_or_default();
        let custom_fields = self.custom_fields.unwrap_or_default();
        check.parse("custom_fields", validate_custom_fields(&custom_fields));
        check.finish()?;
        let size_segment = self
            .size_segment
            .or(self.employee_count.map(size_segment_for));
        Ok(AccountFields {
            name_key: name.to_lowercase(),
            name,
            domain,
            industry: trimmed(self.industry),
            country,
            region: trimmed(self.region),
            employee_count: self.employee_count,
            annual_revenue: self.annual_revenue,
            currency,
            size_segment,
            size_segment_set: self.size_segment.is_some(),
            value_tier: self.value_tier,
            lifecycle_stage: self.lifecycle_stage,
            key_account: self.key_account.unwrap_or(false),
            owner_id: self.owner_id,
            tags,
            custom_fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> AccountIn {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn segment_is_derived_unless_set() {
        let f = input(json!({"name": "A", "employee_count": 1500}))
            .into_fields()
            .unwrap();
        assert_eq!(f.size_segment, Some(SizeSegment::Enterprise));
        assert!(!f.size_segment_set);
        let f = input(json!({"name": "A", "employee_count": 1500, "size_segment": "small"}))
            .into_fields()
            .unwrap();
        assert_eq!(f.size_segment, Some(SizeSegment::Small));
        assert!(f.size_segment_set);
        assert_eq!(
            input(json!({"name": "A"}))
                .into_fields()
                .unwrap()
                .size_segment,
            None
        );
    }

    #[test]
    fn all_invalid_fields_are_reported_together() {
        let err = input(json!({"name": "A", "country": "XX", "currency": "EURO", "domain": "no spaces.example"}))
            .into_fields()
            .unwrap_err();
        let problem = err.to_problem();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["country", "currency", "domain"]);
    }

    #[test]
    fn revenue_needs_a_currency_and_no_negatives() {
        assert!(
            input(json!({"name": "A", "annual_revenue": 100}))
                .into_fields()
                .is_err()
        );
        assert!(
            input(json!({"name": "A", "employee_count": -1}))
                .into_fields()
                .is_err()
        );
        assert!(
            input(json!({"name": "A", "annual_revenue": 100, "currency": "cny"}))
                .into_fields()
                .is_ok()
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(serde_json::from_value::<AccountIn>(json!({"name": "A", "nmae": "B"})).is_err());
    }
}
