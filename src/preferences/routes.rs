use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    model::{Consent, ConsentRow, Preferences, PreferencesIn},
    repo,
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    db::now,
    http::{
        ApiResult, Page, PageParams, ValidatedJson, etag::expected_version, ok_versioned,
        pagination::page_from, responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_preferences)
        .service(put_preferences)
        .service(list_consents);
}

/// Get a contact's communication preferences
///
/// The preferred channel kind, language, quiet hours, weekly marketing cap and
/// the consent in force for every channel kind and purpose ever recorded.
/// Version `0` means none were saved yet.
#[utoipa::path(
    security(("bearer" = ["contacts:read"])),
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id.")),
    responses(
        (status = 200, description = "The preferences.", body = Preferences, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/contacts/{id}/preferences")]
async fn get_preferences(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Contacts, Level::Read)?;
    let prefs = repo::get(&state.db, *id).await?;
    Ok(ok_versioned(prefs.version, prefs))
}

/// Set a contact's communication preferences and record consent
///
/// Replaces the preferences (absent fields become `null`) and appends each
/// consent statement that changes something to the contact's consent history
/// (never overwritten; see `/v1/contacts/{id}/consents`). Audited as
/// `update_preferences` on the contact. An erased contact's preferences
/// cannot be set (409).
#[utoipa::path(
    security(("bearer" = ["contacts:write"])),
    tag = "contacts",
    request_body = PreferencesIn,
    params(
        ("id" = Uuid, Path, description = "The contact's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read (\"0\" before the first save); refused with 412 if the preferences changed since."),
    ),
    responses(
        (status = 200, description = "The preferences as saved.", body = Preferences, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[put("/contacts/{id}/preferences")]
async fn put_preferences(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ValidatedJson<PreferencesIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Contacts, Level::Write)?;
    let input = body.0.parse(now())?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    let prefs = state
        .db
        .write(|db| async move { repo::put(&db, &actor, id, expected, &input).await })
        .await?;
    Ok(ok_versioned(prefs.version, prefs))
}

/// List a contact's consent history
///
/// Every consent statement ever recorded for the contact, newest first by
/// `recorded_at`, keyset-paginated. Kept after the contact is erased, as
/// evidence.
#[utoipa::path(
    security(("bearer" = ["contacts:read"])),
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id."), PageParams),
    responses(
        (status = 200, description = "A page of consent statements.", body = Page<Consent>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/contacts/{id}/consents")]
async fn list_consents(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<Consent>>> {
    principal.require(Area::Contacts, Level::Read)?;
    let limit = page.limit()?;
    let rows = repo::history(
        &state.db,
        *id,
        page.cursor::<(DateTime<Utc>, Uuid)>()?,
        limit,
    )
    .await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| (r.recorded_at, r.id),
        ConsentRow::into_consent,
    )))
}
