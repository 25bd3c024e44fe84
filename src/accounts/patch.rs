//! `PATCH /v1/accounts/{id}`: the fields to change, merged into the account
//! and checked as a create (`AccountIn::into_fields`).

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::AccountIn;
use crate::{
    domain::stages::{LifecycleStage, SizeSegment, ValueTier},
    http::{
        FieldError,
        patch::{MergePatch, Patch},
    },
};

/// Changes to an account (JSON merge patch): absent fields stay as they are,
/// `null` clears a field, `custom_fields` merges key by key (a `null` key
/// removes it). The result must be a valid account, as for a create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"value_tier": "medium", "tags": ["pharma"]}))]
pub struct AccountPatch {
    /// 1–200 characters; cannot be cleared.
    #[schema(value_type = String)]
    pub name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub domain: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub industry: Patch<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`, `CN`.
    #[schema(value_type = Option<String>)]
    pub country: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub region: Patch<String>,
    #[schema(value_type = Option<i64>)]
    pub employee_count: Patch<i64>,
    /// Minor units of `currency`; requires `currency`.
    #[schema(value_type = Option<i64>)]
    pub annual_revenue: Patch<i64>,
    /// ISO 4217, e.g. `EUR`, `CNY`.
    #[schema(value_type = Option<String>)]
    pub currency: Patch<String>,
    /// Set to override the segment derived from `employee_count`; null to derive it again.
    #[schema(value_type = Option<SizeSegment>)]
    pub size_segment: Patch<SizeSegment>,
    #[schema(value_type = Option<ValueTier>)]
    pub value_tier: Patch<ValueTier>,
    #[schema(value_type = Option<LifecycleStage>)]
    pub lifecycle_stage: Patch<LifecycleStage>,
    /// `null` resets it to false.
    #[schema(value_type = Option<bool>)]
    pub key_account: Patch<bool>,
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Patch<Uuid>,
    /// Replaces the tags; `null` removes them all.
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Patch<Map<String, Value>>,
}

impl MergePatch<AccountIn> for AccountPatch {
    fn merge_into(self, current: AccountIn, errors: &mut Vec<FieldError>) -> AccountIn {
        AccountIn {
            name: self.name.apply_required(current.name, "name", errors),
            domain: self.domain.apply(current.domain),
            industry: self.industry.apply(current.industry),
            country: self.country.apply(current.country),
            region: self.region.apply(current.region),
            employee_count: self.employee_count.apply(current.employee_count),
            annual_revenue: self.annual_revenue.apply(current.annual_revenue),
            currency: self.currency.apply(current.currency),
            size_segment: self.size_segment.apply(current.size_segment),
            value_tier: self.value_tier.apply(current.value_tier),
            lifecycle_stage: self.lifecycle_stage.apply(current.lifecycle_stage),
            key_account: self.key_account.apply(current.key_account),
            owner_id: self.owner_id.apply(current.owner_id),
            tags: self.tags.apply(current.tags),
            custom_fields: self.custom_fields.merge(current.custom_fields),
        }
    }
}
