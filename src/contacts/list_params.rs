//! The contact list's parameters and the one way from them (a query string,
//! an export's, or a segment's `filter`) to a [`ContactQuery`].

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::repo::ContactQuery;
use crate::{
    domain::stages::{LifecycleStage, SizeSegment, ValueTier},
    http::ApiError,
    insights::{
        filter::InsightFilter,
        model::{LoyaltyStatus, NpsClass, RfmSegment},
    },
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContactListParams {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `created_at` (default), `updated_at`, `name` (family name first) or `churn_risk` (contacts without one
    /// last); prefix with `-` for descending.
    pub sort: Option<String>,
    /// Adds `total`, the number of contacts matching the filters.
    pub include_total: Option<bool>,
    /// `account` embeds each contact's account.
    pub expand: Option<String>,
    pub account_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub tag: Option<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    /// The value tier of the contact's account.
    pub value_tier: Option<ValueTier>,
    /// The size segment of the contact's account.
    pub size_segment: Option<SizeSegment>,
    /// Whether the contact's account is a key account.
    pub key_account: Option<bool>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Only contacts changed at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub updated_since: Option<DateTime<Utc>>,
    /// Matches the start of the name ("mei", "chen mei", "mei chen") or of the email, case-insensitively.
    /// For viewers, who see emails masked, it matches names only.
    pub q: Option<String>,
    /// Only customers with this loyalty status (see the `insights` operations).
    pub loyalty_status: Option<LoyaltyStatus>,
    /// Only customers in this RFM segment.
    pub rfm_segment: Option<RfmSegment>,
    /// Only customers whose latest NPS answer is of this class.
    pub nps_class: Option<NpsClass>,
    /// Only customers with a churn risk of at least this (0–100).
    pub churn_risk_gte: Option<i64>,
}

/// The contact filters of a list or export request.
#[allow(clippy::too_many_arguments)]
pub fn contact_query(
    account_id: Option<Uuid>,
    owner_id: Option<Uuid>,
    tag: Option<String>,
    lifecycle_stage: Option<LifecycleStage>,
    value_tier: Option<ValueTier>,
    size_segment: Option<SizeSegment>,
    key_account: Option<bool>,
    country: Option<String>,
    updated_since: Option<DateTime<Utc>>,
    q: Option<String>,
) -> ContactQuery {
    ContactQuery {
        account_id,
        owner_id,
        tag,
        lifecycle_stage: lifecycle_stage.map(|v| v.as_str().to_string()),
        value_tier: value_tier.map(|v| v.as_str().to_string()),
        size_segment: size_segment.map(|v| v.as_str().to_string()),
        key_account,
        country,
        updated_since,
        q: q.filter(|q| !q.trim().is_empty()),
        search_names_only: false,
        insight: InsightFilter::default(),
    }
}

impl ContactListParams {
    /// The filters, checked: the one way from the list's parameters (a query
    /// string, or a segment's `filter`) to a [`ContactQuery`].
    pub fn query(&self) -> Result<ContactQuery, ApiError> {
        let query = contact_query(
            self.account_id,
            self.owner_id,
            self.tag.clone(),
            self.lifecycle_stage,
            self.value_tier,
            self.size_segment,
            self.key_account,
            self.country.clone(),
            self.updated_since,
            self.q.clone(),
        );
        Ok(ContactQuery {
            insight: InsightFilter::new(
                self.loyalty_status,
                self.rfm_segment,
                self.nps_class,
                self.churn_risk_gte,
            )?,
            ..query
        })
    }
}
