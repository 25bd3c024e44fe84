use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    model::{
        Engagement, EngagementContacts, EngagementContactsIn, EngagementIn, EngagementPatch,
        EngagementRow,
    },
    people,
    repo::{self, EngagementQuery, SORTS},
    status::EngagementStatus,
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    http::{
        ApiResult, Page, PageParams, created,
        etag::expected_version,
        ok_versioned,
        pagination::{Sort, page_from, time_key},
        patch::patched,
        responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_engagements)
        .service(create_engagement)
        .service(get_engagement)
        .service(update_engagement)
        .service(delete_engagement)
        .service(get_engagement_contacts)
        .service(put_engagement_contacts);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EngagementListParams {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `created_at` (default), `started_on` or `value`; prefix with `-` for descending. Engagements without a
    /// start date or value come last either way.
    pub sort: Option<String>,
    pub account_id: Option<Uuid>,
    pub status: Option<EngagementStatus>,
    pub owner_id: Option<Uuid>,
    /// Exact match, case-insensitive.
    pub service_line: Option<String>,
    /// Only engagements started on or after this date.
    pub started_from: Option<NaiveDate>,
    /// Only engagements started on or before this date.
    pub started_to: Option<NaiveDate>,
    /// Only engagements changed at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub updated_since: Option<DateTime<Utc>>,
    /// Adds `total`, the number of engagements matching the filters.
    pub include_total: Option<bool>,
}

/// List engagements
///
/// Keyset-paginated: follow `next_cursor` until it is null.
#[utoipa::path(
    security(("bearer" = ["engagements:read"])),
    tag = "engagements",
    params(EngagementListParams),
    responses(
        (status = 200, description = "A page of engagements.", body = Page<Engagement>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/engagements")]
async fn list_engagements(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<EngagementListParams>,
) -> ApiResult<web::Json<Page<Engagement>>> {
    principal.require(Area::Engagements, Level::Read)?;
    let p = params.into_inner();
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    let limit = page.limit()?;
    let sort = Sort::parse(p.sort.as_deref(), &SORTS, "created_at")?;
    let query = EngagementQuery {
        account_id: p.account_id,
        status: p.status,
        owner_id: p.owner_id,
        service_line: p.service_line,
        started_from: p.started_from.map(|d| d.to_string()),
        started_to: p.started_to.map(|d| d.to_string()),
        updated_since: p.updated_since,
    };
    let rows = repo::list(&state.db, &query, &sort, page.cursor()?, limit).await?;
    let key = |r: &EngagementRow| match sort.field {
        "started_on" => sort.cursor_for_optional(r.started_on.clone(), r.id),
        "value" => sort.cursor_for_optional(r.value.map(|v| v.to_string()), r.id),
        _ => sort.cursor_for(time_key(&r.created_at), r.id),
    };
    let mut result = page_from(rows, limit, key, EngagementRow::into_engagement);
    if p.include_total == Some(true) {
        result.total = Some(repo::count(&state.db, &query).await?);
    }
    Ok(web::Json(result))
}

/// Create an engagement
#[utoipa::path(
    security(("bearer" = ["engagements:write"])),
    tag = "engagements",
    request_body = EngagementIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The engagement was created.", body = Engagement, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/engagements")]
async fn create_engagement(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<EngagementIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Engagements, Level::Write)?;
    let fields = body.into_inner().into_fields()?;
    let actor = Actor::new(&principal, &req);
    let engagement = state
        .db
        .write(|db| async move { repo::create(&db, &actor, fields).await })
        .await?
        .into_engagement();
    Ok(created(
        format!("/v1/engagements/{}", engagement.id),
        Some(engagement.version),
        engagement,
    ))
}

/// Get an engagement
#[utoipa::path(
    security(("bearer" = ["engagements:read"])),
    tag = "engagements",
    params(("id" = Uuid, Path, description = "The engagement's id.")),
    responses(
        (status = 200, description = "The engagement.", body = Engagement, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/engagements/{id}")]
async fn get_engagement(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Engagements, Level::Read)?;
    let engagement = repo::get(&state.db, *id).await?.into_engagement();
    Ok(ok_versioned(engagement.version, engagement))
}

/// Update an engagement
///
/// A JSON merge patch: send only the fields to change; `null` clears a field. A new `status` must be an allowed
/// move (else 409, whose `allowed` member lists the statuses it can move to). With `If-Match`, the change applies
/// only if the engagement is still at that version (else 412).
#[utoipa::path(
    security(("bearer" = ["engagements:write"])),
    tag = "engagements",
    request_body(content = EngagementPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The engagement's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 200, description = "The updated engagement.", body = Engagement, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/engagements/{id}")]
async fn update_engagement(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<EngagementPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Engagements, Level::Write)?;
    let before = repo::get(&state.db, *id).await?;
    let expected = expected_version(&req)?.unwrap_or(before.version);
    let fields = patched(before.to_input(), body.into_inner())?.into_fields()?;
    let actor = Actor::new(&principal, &req);
    let engagement = state
        .db
        .write(|db| async move { repo::update(&db, &actor, &before, expected, fields).await })
        .await?
        .into_engagement();
    Ok(ok_versioned(engagement.version, engagement))
}

/// Delete an engagement
///
/// Only an engagement nothing refers to: one with transactions, interactions or feedback answers 409 (set its
/// status to `closed` or `lost` instead).
#[utoipa::path(
    security(("bearer" = ["engagements:manage"])),
    tag = "engagements",
    params(
        ("id" = Uuid, Path, description = "The engagement's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The engagement was deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/engagements/{id}")]
async fn delete_engagement(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Engagements, Level::Manage)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The people on an engagement
///
/// Each with their role. The `ETag` is the engagement's.
#[utoipa::path(
    security(("bearer" = ["engagements:read"])),
    tag = "engagements",
    params(("id" = Uuid, Path, description = "The engagement's id.")),
    responses(
        (status = 200, description = "The people on the engagement.", body = EngagementContacts, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/engagements/{id}/contacts")]
async fn get_engagement_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Engagements, Level::Read)?;
    let engagement = repo::get(&state.db, *id).await?;
    let contacts = people::list(&state.db, engagement.id).await?;
    Ok(ok_versioned(
        engagement.version,
        EngagementContacts { contacts },
    ))
}

/// Set the people on an engagement
///
/// Replaces the whole list. Every contact must belong to the engagement's account (else 422, code
/// `other_account`). A person who keeps their role keeps their `added_at`. Changes the engagement's version;
/// with `If-Match`, applies only if the engagement is still at that version (else 412).
#[utoipa::path(
    security(("bearer" = ["engagements:write"])),
    tag = "engagements",
    request_body = EngagementContactsIn,
    params(
        ("id" = Uuid, Path, description = "The engagement's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 200, description = "The people on the engagement now.", body = EngagementContacts, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[put("/engagements/{id}/contacts")]
async fn put_engagement_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<EngagementContactsIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Engagements, Level::Write)?;
    let people = body.into_inner().checked()?;
    let before = repo::get(&state.db, *id).await?;
    let expected = expected_version(&req)?.unwrap_or(before.version);
    let actor = Actor::new(&principal, &req);
    let (row, contacts) = state
        .db
        .write(|db| async move { people::replace(&db, &actor, &before, expected, &people).await })
        .await?;
    Ok(ok_versioned(row.version, EngagementContacts { contacts }))
}
