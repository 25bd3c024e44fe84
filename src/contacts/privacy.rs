//! Data-protection tools for one person: a full export of what is held, an
//! irreversible erasure that keeps aggregates, and the merge of duplicates.

use actix_web::{HttpRequest, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use super::events::MERGED;
use super::{
    model::{Contact, ContactIn, ContactRow},
    repo,
};
use crate::{
    accounts::{model::Account, repo as accounts},
    audit::{self, Actor, Change, routes::AuditEvent},
    auth::{Area, Level, Principal},
    db::{
        Db, now,
        refs::{TagTable, replace_tags},
    },
    events,
    http::{ApiError, ApiResult, ValidatedJson, etag, responses::*},
    on_db,
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export_person)
        .service(super::erasure::erase_contact)
        .service(merge_contacts);
}

/// Everything Rapport holds about one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonExport {
    pub contact: Contact,
    pub account: Option<Account>,
    /// Every recorded change to the contact, oldest first.
    pub audit_events: Vec<AuditEvent>,
    /// What each module holds about the person (interactions, preferences,
    /// feedback, …), one member per section: the modules' export hooks give
    /// them, and describe them in the document.
    #[serde(flatten)]
    #[schema(ignore)]
    pub records: serde_json::Map<String, serde_json::Value>,
    /// When this export was made.
    pub exported_at: chrono::DateTime<chrono::Utc>,
}

/// Export a person's data
///
/// Admins and managers. Everything held about the contact, unmasked, as one JSON document
/// (for a data-subject access request).
#[utoipa::path(
    security(("bearer" = ["contacts:manage"])),
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id.")),
    responses(
        (status = 200, description = "Everything held about the contact.", body = PersonExport),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/contacts/{id}/export")]
async fn export_person(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<PersonExport>> {
    principal.require(Area::Contacts, Level::Manage)?;
    let contact = repo::get(&state.db, *id).await?.into_contact();
    let account = match contact.account_id {
        Some(account_id) => accounts::get(&state.db, account_id)
            .await
            .ok()
            .map(|a| a.into_account()),
        None => None,
    };
    let audit_events = audit_trail(&state.db, *id).await?;
    let records = state.hooks.export(&state.db, *id).await?;
    Ok(web::Json(PersonExport {
        contact,
        account,
        audit_events,
        records,
        exported_at: now(),
    }))
}

async fn audit_trail(db: &Db, id: Uuid) -> Result<Vec<AuditEvent>, ApiError> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, occurred_at, actor_type, actor_id, action, entity_type, entity_id, changes, request_id
         FROM audit_events WHERE entity_type = 'contact' AND entity_id = $1 ORDER BY id"
    ).bind(id).fetch_all(pool).await)?)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"duplicate_id": "01937c62-0000-7000-8000-0000000000c2"}))]
pub struct MergeRequest {
    /// The contact to fold into this one; it is deleted.
    pub duplicate_id: Uuid,
}

/// Merge a duplicate into this contact
///
/// Admins and managers. The contact in the path survives. It keeps its own values and takes
/// the duplicate's where it has none; tags are combined; custom fields are combined with the
/// survivor's winning. The duplicate's history moves to the survivor, the duplicate is
/// deleted, and both are recorded in the audit log.
#[utoipa::path(
    security(("bearer" = ["contacts:manage"])),
    tag = "contacts",
    request_body = MergeRequest,
    params(
        ("id" = Uuid, Path, description = "The surviving contact's id."),
        ("If-Match" = Option<String>, Header, description = "The survivor's ETag from your last read."),
    ),
    responses(
        (status = 200, description = "The surviving contact after the merge.", body = Contact),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/contacts/{id}/merge")]
async fn merge_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ValidatedJson<MergeRequest>,
) -> ApiResult<web::Json<Contact>> {
    principal.require(Area::Contacts, Level::Manage)?;
    let duplicate_id = body.0.duplicate_id;
    if duplicate_id == *id {
        return Err(ApiError::field(
            "duplicate_id",
            "same_contact",
            "must be another contact than the survivor",
        ));
    }
    let (actor, id, hooks) = (Actor::new(&principal, &req), *id, state.hooks.clone());
    let expected = etag::expected_version(&req)?;
    let contact = state
        .db
        .write(|db| async move {
            let mut tx = db.begin().await?;
            let survivor = repo::get(&mut tx, id).await?;
            etag::check(expected, survivor.version)?;
            let duplicate = repo::get(&mut tx, duplicate_id).await.map_err(|_| {
                ApiError::field(
                    "duplicate_id",
                    "not_found",
                    format!("no live contact has the id {duplicate_id}"),
                )
            })?;
            // An erased record must stay empty: merging would refill it with personal data.
            if let Some(erased) = [&survivor, &duplicate]
                .into_iter()
                .find(|c| c.erased_at.is_some())
            {
                return Err(ApiError::conflict(format!(
                    "The contact {} was erased; an erased contact cannot take part in a merge.",
                    erased.id
                ))
                .with("erased_id", erased.id));
            }
            let merged = merged_fields(&survivor, &duplicate).into_fields()?;
            // The duplicate goes first, so the survivor may take over its email.
            repo::soft_delete(&mut tx, duplicate.id, duplicate.version).await?;
            repo::mark_merged(&mut tx, duplicate.id, survivor.id).await?;
            let row = repo::update_row(&mut tx, survivor.id, survivor.version, &merged)
                .await?
                .ok_or_else(|| etag::stale(survivor.version + 1))?;
            replace_tags(&mut tx, TagTable::Contact, row.id, &merged.tags).await?;
            hooks.on_merge(&mut tx, duplicate.id, survivor.id).await?;
            let change = Change::diff(
                &survivor.clone().into_contact(),
                &row.clone().into_contact(),
            )
            .with("merged_from", duplicate.id);
            audit::record(&mut tx, &actor, "merge", "contact", survivor.id, change).await?;
            audit::record(
                &mut tx,
                &actor,
                "merge",
                "contact",
                duplicate.id,
                Change::none().with("merged_into", survivor.id),
            )
            .await?;
            let contact = row.into_contact();
            let data =
                serde_json::json!({"contact": &contact, "merged_contact_ids": [duplicate.id]});
            events::record(&mut tx, &actor, &MERGED, Some(survivor.id), &data).await?;
            tx.commit().await?;
            Ok::<_, ApiError>(contact)
        })
        .await?;
    Ok(web::Json(contact))
}

/// The survivor's fields, completed with the duplicate's where the survivor has none.
fn merged_fields(survivor: &ContactRow, duplicate: &ContactRow) -> ContactIn {
    let (s, d) = (survivor.to_input(), duplicate.to_input());
    let mut tags = s.tags.clone().unwrap_or_default();
    tags.extend(d.tags.clone().unwrap_or_default());
    let mut custom_fields = d.custom_fields.clone().unwrap_or_default();
    custom_fields.extend(s.custom_fields.clone().unwrap_or_default());
    ContactIn {
        first_name: s.first_name.or(d.first_name),
        last_name: s.last_name.or(d.last_name),
        email: s.email.or(d.email),
        phone: s.phone.or(d.phone),
        title: s.title.or(d.title),
        account_id: s.account_id.or(d.account_id),
        language: s.language.or(d.language),
        time_zone: s.time_zone.or(d.time_zone),
        birthday: s.birthday.or(d.birthday),
        country: s.country.or(d.country),
        lifecycle_stage: s.lifecycle_stage,
        owner_id: s.owner_id.or(d.owner_id),
        tags: Some(tags),
        custom_fields: Some(custom_fields),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use sqlx::types::Json;

    fn row(first: Option<&str>, email: Option<&str>, tags: &[&str]) -> ContactRow {
        ContactRow {
            id: Uuid::now_v7(),
            first_name: first.map(str::to_string),
            last_name: None,
            name_key: String::new(),
            email: email.map(str::to_string),
            phone: None,
            title: None,
            account_id: None,
            language: None,
            time_zone: None,
            birthday: None,
            country: None,
            lifecycle_stage: crate::domain::stages::LifecycleStage::Lead,
            owner_id: None,
            tags: Json(tags.iter().map(|t| t.to_string()).collect()),
            custom_fields: Json(serde_json::Map::new()),
            erased_at: None,
            history: Default::default(),
            churn_risk: None,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_survivor_keeps_its_values_and_fills_gaps() {
        let survivor = row(Some("Mei"), None, &["vip"]);
        let duplicate = row(Some("May"), Some("mei@acme.example"), &["apac", "vip"]);
        let merged = merged_fields(&survivor, &duplicate).into_fields().unwrap();
        assert_eq!(merged.first_name.as_deref(), Some("Mei"));
        assert_eq!(merged.email.as_deref(), Some("mei@acme.example"));
        assert_eq!(merged.tags, vec!["vip", "apac"]);
    }
}
