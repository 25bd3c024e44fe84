use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::status::EngagementStatus;
use crate::{
    choice,
    domain::{CurrencyCode, Tags, custom_fields::validate_custom_fields},
    http::{
        ApiError, FieldError,
        check::{Check, trimmed},
        patch::{MergePatch, Patch},
    },
};

/// A piece of work for a client: a study, a project, a retainer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c90-0000-7000-8000-000000000001", "account_id": "01937c5d-0000-7000-8000-000000000001",
    "name": "2027 brand tracker", "service_line": "market research", "status": "active",
    "started_on": "2027-01-15", "ended_on": null, "value": 4800000, "currency": "EUR",
    "owner_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "external_id": "PSA-2027-014", "tags": ["tracker"],
    "custom_fields": {"po_number": "PO-7731"}, "version": 2,
    "created_at": "2026-12-01T09:00:00Z", "updated_at": "2027-01-15T08:30:00Z"
}))]
pub struct Engagement {
    pub id: Uuid,
    /// The client the work is for; it never changes.
    pub account_id: Uuid,
    pub name: String,
    /// The kind of work, in the firm's own words (`market research`, `strategy`).
    pub service_line: Option<String>,
    /// Moves: proposed → active | lost; active → on_hold | delivered | lost; on_hold → active | lost;
    /// delivered → closed. `closed` and `lost` are final.
    pub status: EngagementStatus,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    /// The agreed value in minor units of `currency` (4800000 is EUR 48,000.00).
    pub value: Option<i64>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// The user responsible for the engagement.
    pub owner_id: Option<Uuid>,
    /// The engagement's id in the firm's project or PSA system; unique.
    pub external_id: Option<String>,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    /// Increases on every change (people on it included); sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EngagementRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub service_line: Option<String>,
    pub status: EngagementStatus,
    pub started_on: Option<String>,
    pub ended_on: Option<String>,
    pub value: Option<i64>,
    pub currency: Option<String>,
    pub owner_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub tags: Json<Vec<String>>,
    pub custom_fields: Json<Map<String, Value>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const COLUMNS: &str = "id, account_id, name, service_line, status, started_on, ended_on, value, currency, \
    owner_id, external_id, tags, custom_fields, version, created_at, updated_at";

fn date(text: Option<&str>) -> Option<NaiveDate> {
    text.and_then(|t| t.parse().ok())
}

impl EngagementRow {
    pub fn into_engagement(self) -> Engagement {
        Engagement {
            id: self.id,
            account_id: self.account_id,
            name: self.name,
            service_line: self.service_line,
            status: self.status,
            started_on: date(self.started_on.as_deref()),
            ended_on: date(self.ended_on.as_deref()),
            value: self.value,
            currency: self.currency,
            owner_id: self.owner_id,
            external_id: self.external_id,
            tags: self.tags.0,
            custom_fields: self.custom_fields.0,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The engagement as a create would have sent it (what a patch applies to).
    pub fn to_input(&self) -> EngagementIn {
        EngagementIn {
            account_id: self.account_id,
            name: self.name.clone(),
            service_line: self.service_line.clone(),
            status: Some(self.status.as_str().to_string()),
            started_on: date(self.started_on.as_deref()),
            ended_on: date(self.ended_on.as_deref()),
            value: self.value,
            currency: self.currency.clone(),
            owner_id: self.owner_id,
            external_id: self.external_id.clone(),
            tags: Some(self.tags.0.clone()),
            custom_fields: Some(self.custom_fields.0.clone()),
        }
    }
}

/// A new engagement.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "account_id": "01937c5d-0000-7000-8000-000000000001", "name": "2027 brand tracker",
    "service_line": "market research", "status": "proposed", "started_on": "2027-01-15", "value": 4800000,
    "currency": "EUR", "external_id": "PSA-2027-014", "tags": ["tracker"]
}))]
pub struct EngagementIn {
    /// An existing account; it cannot be changed later.
    pub account_id: Uuid,
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    /// Up to 100 characters.
    #[serde(default)]
    #[validate(length(max = 100))]
    pub service_line: Option<String>,
    /// Any status to start with (default `proposed`); later changes follow the allowed moves.
    #[serde(default)]
    #[schema(value_type = Option<EngagementStatus>)]
    #[validate(custom(function = "EngagementStatus::validate"))]
    pub status: Option<String>,
    /// From 1900-01-01 to 2200-12-31.
    #[serde(default)]
    pub started_on: Option<NaiveDate>,
    /// On or after `started_on`, by 2200-12-31.
    #[serde(default)]
    pub ended_on: Option<NaiveDate>,
    /// Minor units of `currency`, zero or more; requires `currency`.
    #[serde(default)]
    #[validate(range(min = 0, message = "must be zero or more"))]
    pub value: Option<i64>,
    /// ISO 4217, e.g. `EUR`.
    #[serde(default)]
    pub currency: Option<String>,
    /// An existing, active user.
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// 1–200 characters, unique among engagements.
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    pub external_id: Option<String>,
    /// Up to 50 tags of 1–64 characters; stored lowercase, duplicates removed.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// A flat object of scalars: at most 50 keys and 16 KiB.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
}

/// An engagement's fields, checked and normalised, ready to store.
#[derive(Debug)]
pub struct EngagementFields {
    pub account_id: Uuid,
    pub name: String,
    pub service_line: Option<String>,
    pub status: EngagementStatus,
    pub started_on: Option<String>,
    pub ended_on: Option<String>,
    pub value: Option<i64>,
    pub currency: Option<CurrencyCode>,
    pub owner_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: Map<String, Value>,
}

impl EngagementIn {
    /// Every rule of a create at once; a patched engagement passes them too.
    pub fn into_fields(self) -> Result<EngagementFields, ApiError> {
        let mut check = Check::validated(&self);
        let name = self.name.trim().to_string();
        if name.is_empty() && !check.has("name") {
            check.fail("name", "required", "must not be blank");
        }
        let currency = check.optional("currency", self.currency.as_deref(), CurrencyCode::parse);
        if self.value.is_some() && self.currency.is_none() {
            check.fail(
                "currency",
                "required",
                "is required with value (ISO 4217, e.g. EUR)",
            );
        }
        for (field, day) in [("started_on", self.started_on), ("ended_on", self.ended_on)] {
            if day.is_some_and(|d| !(1900..=2200).contains(&d.year())) {
                check.fail(
                    field,
                    "out_of_range",
                    "must be a date from 1900-01-01 to 2200-12-31",
                );
            }
        }
        if let (Some(start), Some(end)) = (self.started_on, self.ended_on)
            && end < start
        {
            check.fail(
                "ended_on",
                "before_start",
                format!("must be on or after started_on ({start})"),
            );
        }
        let tags = check
            .parse("tags", Tags::parse(self.tags.unwrap_or_default()))
            .map(Tags::into_vec)
            .unwrap_or_default();
        let custom_fields = self.custom_fields.unwrap_or_default();
        check.parse("custom_fields", validate_custom_fields(&custom_fields));
        check.finish()?;
        Ok(EngagementFields {
            account_id: self.account_id,
            name,
            service_line: trimmed(self.service_line),
            status: self
                .status
                .as_deref()
                .and_then(EngagementStatus::parse)
                .unwrap_or(EngagementStatus::Proposed),
            started_on: self.started_on.map(|d| d.to_string()),
            ended_on: self.ended_on.map(|d| d.to_string()),
            value: self.value,
            currency,
            owner_id: self.owner_id,
            external_id: trimmed(self.external_id),
            tags,
            custom_fields,
        })
    }
}

/// Changes to an engagement (JSON merge patch): absent fields stay as they
/// are, `null` clears a field, `custom_fields` merges key by key. A new
/// `status` must be an allowed move from the current one (else 409). The
/// account cannot change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"status": "delivered", "ended_on": "2027-06-30"}))]
pub struct EngagementPatch {
    #[schema(value_type = String)]
    pub name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub service_line: Patch<String>,
    #[schema(value_type = EngagementStatus)]
    pub status: Patch<String>,
    #[schema(value_type = Option<NaiveDate>)]
    pub started_on: Patch<NaiveDate>,
    #[schema(value_type = Option<NaiveDate>)]
    pub ended_on: Patch<NaiveDate>,
    #[schema(value_type = Option<i64>)]
    pub value: Patch<i64>,
    #[schema(value_type = Option<String>)]
    pub currency: Patch<String>,
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Patch<Uuid>,
    #[schema(value_type = Option<String>)]
    pub external_id: Patch<String>,
    /// Replaces the tags; `null` removes them all.
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Patch<Map<String, Value>>,
}

impl MergePatch<EngagementIn> for EngagementPatch {
    fn merge_into(self, current: EngagementIn, nulls: &mut Vec<FieldError>) -> EngagementIn {
        self.status.refuse_null("status", nulls);
        EngagementIn {
            account_id: current.account_id,
            name: self.name.apply_required(current.name, "name", nulls),
            service_line: self.service_line.apply(current.service_line),
            status: self.status.apply(current.status),
            started_on: self.started_on.apply(current.started_on),
            ended_on: self.ended_on.apply(current.ended_on),
            value: self.value.apply(current.value),
            currency: self.currency.apply(current.currency),
            owner_id: self.owner_id.apply(current.owner_id),
            external_id: self.external_id.apply(current.external_id),
            tags: self.tags.apply(current.tags),
            custom_fields: self.custom_fields.merge(current.custom_fields),
        }
    }
}

choice! {
    /// What a person is on an engagement.
    pub enum EngagementRole {
        Sponsor = "sponsor",
        DecisionMaker = "decision_maker",
        Stakeholder = "stakeholder",
        EndUser = "end_user",
    }
}

/// A person on an engagement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct EngagementContact {
    pub contact_id: Uuid,
    pub role: EngagementRole,
    /// When the person was put on the engagement with this role.
    #[serde(default)]
    pub added_at: Option<DateTime<Utc>>,
}

/// The people on an engagement.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"contacts": [
    {"contact_id": "01937c5e-0000-7000-8000-000000000010", "role": "sponsor", "added_at": "2026-12-01T09:00:00Z"}
]}))]
pub struct EngagementContacts {
    pub contacts: Vec<EngagementContact>,
}

/// A person to put on an engagement.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementContactIn {
    /// A live contact of the engagement's account.
    pub contact_id: Uuid,
    #[schema(value_type = EngagementRole)]
    #[validate(custom(function = "EngagementRole::validate"))]
    pub role: String,
}

/// Everyone on the engagement: replaces the current list.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contacts": [
    {"contact_id": "01937c5e-0000-7000-8000-000000000010", "role": "sponsor"},
    {"contact_id": "01937c5e-0000-7000-8000-000000000011", "role": "end_user"}
]}))]
pub struct EngagementContactsIn {
    /// Up to 200 people, each once.
    #[validate(length(max = 200), nested)]
    pub contacts: Vec<EngagementContactIn>,
}

impl EngagementContactsIn {
    /// The people with their roles, each contact once.
    pub fn checked(self) -> Result<Vec<(Uuid, EngagementRole)>, ApiError> {
        let mut check = Check::validated(&self);
        let mut people: Vec<(Uuid, EngagementRole)> = Vec::with_capacity(self.contacts.len());
        for (n, person) in self.contacts.iter().enumerate() {
            if people.iter().any(|(id, _)| *id == person.contact_id) {
                check.fail(
                    &format!("contacts[{n}].contact_id"),
                    "duplicate",
                    "lists the same contact twice: give each person one role",
                );
            }
            if let Some(role) = EngagementRole::parse(&person.role) {
                people.push((person.contact_id, role));
            }
        }
        check.finish()?;
        Ok(people)
    }
}
