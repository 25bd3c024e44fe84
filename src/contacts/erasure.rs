//! Erasure: the right to be forgotten, for one person.
//!
//! The contact's personal fields are emptied, and so is every other place
//! that holds something of theirs: the records other modules keep about them
//! (through the modules' hooks, `crate::hooks`), the audit log's recorded
//! values about each of those records, stored idempotent answers that
//! mention them, and every contact that was merged into this one (the same
//! person). What counts
//! (scores, points, times, states) stays, so reports still add up.

use actix_web::{HttpRequest, post, web};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::events::ERASED;
use super::{
    model::{COLUMNS, Contact, ContactRow},
    repo,
};
use crate::http::ApiError;
use crate::{
    audit::{self, Actor, Change},
    auth::{Area, Level, Principal},
    db::{
        Tx, now,
        refs::{TagTable, replace_tags},
    },
    events,
    hooks::Registry,
    http::{ApiResult, idempotency, responses::*},
    on_tx,
    state::AppState,
};

/// Erase a person's data
///
/// Admins and managers. Irreversibly removes the contact's personal fields (names, email, phone, title,
/// language, time zone, tags, custom fields) and marks it `erased_at`; removes the free text of their
/// interactions, feedback and its activity notes, loyalty reasons and consent sources (as `[erased]`), their
/// preferences, the recorded values of every audit event about any of those records, and stored idempotent
/// answers that mention them. Works on deleted contacts too, and erases every contact that was merged into
/// this one. The id, account, lifecycle stage and history that counts (scores, points totals, times, states)
/// stay, so reports still add up. Erasing twice is harmless.
#[utoipa::path(
    security(("bearer" = ["contacts:manage"])),
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id.")),
    responses(
        (status = 200, description = "The erased contact.", body = Contact),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[post("/contacts/{id}/erase")]
pub async fn erase_contact(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Contact>> {
    principal.require(Area::Contacts, Level::Manage)?;
    let (actor, id, hooks) = (Actor::new(&principal, &req), *id, state.hooks.clone());
    let erased = state
        .db
        .write(|db| async move {
            let mut tx = db.begin().await?;
            let before = repo::get_any(&mut tx, id).await?;
            if before.erased_at.is_some() {
                return Ok(before);
            }
            for merged in repo::merged_into(&mut tx, id).await? {
                erase_one(&mut tx, &hooks, merged).await?;
            }
            let erased = erase_one(&mut tx, &hooks, id).await?;
            // The event names what was erased, never the values.
            let diff = Change::diff(&before.into_contact(), &erased.clone().into_contact());
            audit::record(
                &mut tx,
                &actor,
                "erase",
                "contact",
                id,
                Change::none().with("erased_fields", diff.fields()),
            )
            .await?;
            events::record(&mut tx, &actor, &ERASED, None, &events::ids(id)).await?;
            tx.commit().await?;
            Ok::<_, ApiError>(erased)
        })
        .await?;
    Ok(web::Json(erased.into_contact()))
}

/// Empties one contact record and everything held about it.
async fn erase_one(
    tx: &mut Tx,
    hooks: &Registry,
    id: Uuid,
) -> Result<ContactRow, crate::http::ApiError> {
    let now = now();
    let erased: ContactRow = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE contacts SET first_name = NULL, last_name = NULL, name_key = '', given_name_key = '', email = NULL, phone = NULL,
            title = NULL, language = NULL, time_zone = NULL, birthday = NULL, tags = $1, custom_fields = $2, erased_at = $3,
            updated_at = $3, version = version + 1
         WHERE id = $4 RETURNING {COLUMNS}"
    ))).bind(sqlx::types::Json(Vec::<String>::new())).bind(sqlx::types::Json(Map::<String, Value>::new()))
       .bind(now).bind(id).fetch_one(&mut **c).await)?;
    replace_tags(tx, TagTable::Contact, id, &[]).await?;
    audit::forget(tx, "contact", "SELECT id FROM contacts WHERE id = $1", id).await?;
    events::forget_contact(tx, id).await?;
    // Before the modules' hooks: they may move or relink what mentions the person.
    let mentioned = hooks.ids_naming(tx, id).await?;
    idempotency::forget_answers_mentioning(tx, &mentioned).await?;
    hooks.on_erase(tx, id).await?;
    Ok(erased)
}
