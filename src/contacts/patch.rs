//! `PATCH /v1/contacts/{id}`: the fields to change, merged into the contact
//! and checked as a create (`ContactIn::into_fields`).

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::ContactIn;
use crate::{
    domain::stages::LifecycleStage,
    http::{
        FieldError,
        patch::{MergePatch, Patch},
    },
};

/// Changes to a contact (JSON merge patch): absent fields stay as they are,
/// `null` clears a field, `custom_fields` merges key by key (a `null` key
/// removes it). The result must be a valid contact, as for a create (at
/// least one of `first_name`, `last_name` and `email` stays).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"title": "VP Insights", "phone": null}))]
pub struct ContactPatch {
    #[schema(value_type = Option<String>)]
    pub first_name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub last_name: Patch<String>,
    #[schema(value_type = Option<String>, format = Email)]
    pub email: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub phone: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub title: Patch<String>,
    #[schema(value_type = Option<Uuid>)]
    pub account_id: Patch<Uuid>,
    /// BCP 47, e.g. `zh-CN`.
    #[schema(value_type = Option<String>)]
    pub language: Patch<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    #[schema(value_type = Option<String>)]
    pub time_zone: Patch<String>,
    /// `MM-DD`.
    #[schema(value_type = Option<String>)]
    pub birthday: Patch<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = Option<String>)]
    pub country: Patch<String>,
    /// `null` resets it to `lead`.
    #[schema(value_type = Option<LifecycleStage>)]
    pub lifecycle_stage: Patch<LifecycleStage>,
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Patch<Uuid>,
    /// Replaces the tags; `null` removes them all.
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Patch<Map<String, Value>>,
}

impl MergePatch<ContactIn> for ContactPatch {
    fn merge_into(self, current: ContactIn, _errors: &mut Vec<FieldError>) -> ContactIn {
        ContactIn {
            first_name: self.first_name.apply(current.first_name),
            last_name: self.last_name.apply(current.last_name),
            email: self.email.apply(current.email),
            phone: self.phone.apply(current.phone),
            title: self.title.apply(current.title),
            account_id: self.account_id.apply(current.account_id),
            language: self.language.apply(current.language),
            time_zone: self.time_zone.apply(current.time_zone),
            birthday: self.birthday.apply(current.birthday),
            country: self.country.apply(current.country),
            lifecycle_stage: self.lifecycle_stage.apply(current.lifecycle_stage),
            owner_id: self.owner_id.apply(current.owner_id),
            tags: self.tags.apply(current.tags),
            custom_fields: self.custom_fields.merge(current.custom_fields),
        }
    }
}
