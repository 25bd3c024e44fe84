use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

pub use super::input::{ContactFields, ContactIn, name_key};

use crate::{
    accounts::model::Account,
    domain::{
        mask::{mask_email, mask_phone},
        stages::LifecycleStage,
    },
    transactions::history::{ActivityRow, CustomerActivity},
};

/// A person the firm deals with, usually at an account.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c62-0000-7000-8000-0000000000c1", "first_name": "Mei", "last_name": "Chen",
    "email": "mei.chen@acme.example", "phone": "+8613812345678", "title": "Head of Insights",
    "account_id": "01937c61-0000-7000-8000-0000000000a1", "language": "zh-CN", "time_zone": "Asia/Shanghai",
    "country": "CN", "lifecycle_stage": "customer", "owner_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20",
    "tags": ["decision-maker"], "custom_fields": {"crm_legacy_id": 88812}, "erased_at": null,
    "first_purchase_at": "2025-03-04T10:00:00Z", "last_purchase_at": "2026-10-20T09:00:00Z", "purchase_count": 2,
    "lifetime_revenue": {"EUR": 2400000}, "last_interaction_at": "2026-11-02T09:00:00Z",
    "next_task_due_at": "2026-12-15T09:00:00Z", "version": 2,
    "created_at": "2026-10-01T08:00:00Z", "updated_at": "2026-11-02T09:30:00Z"
}))]
pub struct Contact {
    pub id: Uuid,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Lowercase; unique among contacts. Masked (`m***@acme.example`) for viewers.
    pub email: Option<String>,
    /// E.164 (`+8613812345678`) when the country is known. Masked for viewers.
    pub phone: Option<String>,
    pub title: Option<String>,
    pub account_id: Option<Uuid>,
    /// BCP 47, e.g. `zh-CN`, `en`.
    pub language: Option<String>,
    /// IANA, e.g. `Asia/Shanghai`.
    pub time_zone: Option<String>,
    /// Month and day, `MM-DD` (`03-15`): the birthday greeting rule uses it.
    pub birthday: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub lifecycle_stage: LifecycleStage,
    pub owner_id: Option<Uuid>,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    /// Set when the contact's personal data was erased.
    pub erased_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub history: CustomerActivity,
    /// Increases on every change; sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The contact's account, with `?expand=account`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Box<Account>>,
}

impl Contact {
    /// Hides emails and phone numbers from callers who may not see them.
    pub fn masked(mut self, mask: bool) -> Self {
        if mask {
            self.email = self.email.as_deref().map(mask_email);
            self.phone = self.phone.as_deref().map(mask_phone);
        }
        self
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactRow {
    pub id: Uuid,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name_key: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub account_id: Option<Uuid>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub birthday: Option<String>,
    pub country: Option<String>,
    pub lifecycle_stage: LifecycleStage,
    pub owner_id: Option<Uuid>,
    pub tags: Json<Vec<String>>,
    pub custom_fields: Json<Map<String, Value>>,
    pub erased_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub history: ActivityRow,
    /// Only for the `churn_risk` sort's cursor (the insights endpoint shows it).
    pub churn_risk: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const COLUMNS: &str = "id, first_name, last_name, name_key, email, phone, title, account_id, language, time_zone, \
    country, lifecycle_stage, owner_id, tags, custom_fields, erased_at, birthday, \
    first_purchase_at, last_purchase_at, purchase_count, lifetime_revenue, last_interaction_at, \
    next_task_due_at, churn_risk, \
    version, created_at, updated_at";

impl ContactRow {
    pub fn into_contact(self) -> Contact {
        Contact {
            id: self.id,
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            phone: self.phone,
            title: self.title,
            account_id: self.account_id,
            language: self.language,
            time_zone: self.time_zone,
            birthday: self.birthday,
            country: self.country,
            lifecycle_stage: self.lifecycle_stage,
            owner_id: self.owner_id,
            tags: self.tags.0,
            custom_fields: self.custom_fields.0,
            erased_at: self.erased_at,
            history: self.history.into(),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            account: None,
        }
    }

    /// The editable fields as a client would send them, for merge-patching.
    pub fn to_input(&self) -> ContactIn {
        let c = self.clone().into_contact();
        ContactIn {
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            phone: c.phone,
            title: c.title,
            account_id: c.account_id,
            language: c.language,
            time_zone: c.time_zone,
            birthday: c.birthday,
            country: c.country,
            lifecycle_stage: Some(c.lifecycle_stage),
            owner_id: c.owner_id,
            tags: Some(c.tags),
            custom_fields: Some(c.custom_fields),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_get_masked_values() {
        let row = ContactRow {
            id: Uuid::nil(),
            first_name: None,
            last_name: None,
            name_key: String::new(),
            email: Some("pat@acme.example".into()),
            phone: Some("+8613812345678".into()),
            title: None,
            account_id: None,
            language: None,
            time_zone: None,
            birthday: None,
            country: None,
            lifecycle_stage: LifecycleStage::Lead,
            owner_id: None,
            tags: Json(vec![]),
            custom_fields: Json(Map::new()),
            erased_at: None,
            history: Default::default(),
            churn_risk: None,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let c = row.into_contact().masked(true);
        assert_eq!(c.email.as_deref(), Some("p***@acme.example"));
        assert_eq!(c.phone.as_deref(), Some("+86 138****5678"));
    }
}
