use actix_web::{get, web};
use chrono::{DateTime, Utc};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    model::{TimelineItem, TimelineParams},
    repo::{self, Scope},
    sources::Source,
};
use crate::{
    auth::{Area, Level, Principal},
    hooks::Registry,
    http::{ApiError, ApiResult, Page, PageParams, pagination::page_from, responses::*},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(contact_timeline)
        .service(account_timeline)
        .service(engagement_timeline);
}

/// The sources this caller may read, narrowed to `?kind=`.
fn visible(
    hooks: &Registry,
    principal: &Principal,
    kind: Option<&str>,
) -> Result<Vec<&'static Source>, ApiError> {
    if let Some(k) = kind
        && hooks.timeline_source(k).is_none()
    {
        let mut kinds: Vec<&str> = hooks.timeline_sources().iter().map(|s| s.kind).collect();
        kinds.dedup();
        return Err(ApiError::bad_request(format!(
            "kind={k:?} is not a timeline kind: use one of {}.",
            kinds.join(", ")
        )));
    }
    Ok(hooks
        .timeline_sources()
        .iter()
        .copied()
        .filter(|s| kind.is_none_or(|k| s.kind == k))
        .filter(|s| principal.require(s.area, Level::Read).is_ok())
        .collect())
}

async fn timeline(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: Uuid,
    params: TimelineParams,
) -> ApiResult<web::Json<Page<TimelineItem>>> {
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    let limit = page.limit()?;
    let after = page.cursor::<(DateTime<Utc>, Uuid)>()?;
    let sources = visible(&state.hooks, principal, params.kind.as_deref())?;
    repo::ensure_exists(&state.db, scope, id).await?;
    let rows = repo::page(&state.db, &sources, scope, id, after, limit).await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| (r.occurred_at, r.id),
        |row| row.into_item(&state.hooks),
    )))
}

/// A contact's timeline
///
/// Everything that happened with the contact (interactions and loyalty
/// events; feedback once recorded) in one stream, newest first by `occurred_at`
/// then id, keyset-paginated across all kinds. Each item links to its full
/// record. API keys see only the kinds their scopes can read.
#[utoipa::path(
    security(("bearer" = ["contacts:read"])),
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id."), TimelineParams),
    responses(
        (status = 200, description = "A page of the timeline.", body = Page<TimelineItem>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/contacts/{id}/timeline")]
async fn contact_timeline(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    params: web::Query<TimelineParams>,
) -> ApiResult<web::Json<Page<TimelineItem>>> {
    principal.require(Area::Contacts, Level::Read)?;
    timeline(&state, &principal, Scope::Contact, *id, params.into_inner()).await
}

/// An account's timeline
///
/// Everything logged against the account, plus its contacts' items that are
/// tied to no account (loyalty events; interactions logged while the contact
/// had no account), in one stream, newest first by `occurred_at` then id,
/// keyset-paginated across all kinds. Items logged against another account
/// stay in that account's timeline. Each item links to its full record.
#[utoipa::path(
    security(("bearer" = ["accounts:read"])),
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id."), TimelineParams),
    responses(
        (status = 200, description = "A page of the timeline.", body = Page<TimelineItem>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/accounts/{id}/timeline")]
async fn account_timeline(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    params: web::Query<TimelineParams>,
) -> ApiResult<web::Json<Page<TimelineItem>>> {
    principal.require(Area::Accounts, Level::Read)?;
    timeline(&state, &principal, Scope::Account, *id, params.into_inner()).await
}

/// An engagement's timeline
///
/// Everything tied to the engagement (its status changes, and the interactions, feedback and transactions
/// recorded against it) in one stream, newest first by `occurred_at` then id, keyset-paginated across all kinds.
#[utoipa::path(
    security(("bearer" = ["engagements:read"])),
    tag = "engagements",
    params(("id" = Uuid, Path, description = "The engagement's id."), TimelineParams),
    responses(
        (status = 200, description = "A page of the timeline.", body = Page<TimelineItem>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/engagements/{id}/timeline")]
async fn engagement_timeline(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    params: web::Query<TimelineParams>,
) -> ApiResult<web::Json<Page<TimelineItem>>> {
    principal.require(Area::Engagements, Level::Read)?;
    timeline(
        &state,
        &principal,
        Scope::Engagement,
        *id,
        params.into_inner(),
    )
    .await
}
