use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    activities, calendar_api,
    list::{self, FeedbackQuery, SORTS, sort_key},
    metrics,
    model::{Feedback, FeedbackIn, FeedbackPatch, FeedbackRow},
    repo,
    rules::{new_feedback, patched},
    service_levels::{Priority, SlaState},
    transitions,
    workflow::{FeedbackKind, FeedbackStatus},
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    db::now,
    http::{
        ApiError, ApiResult, Page, PageParams, created,
        etag::expected_version,
        ok_versioned,
        pagination::{Sort, page_from},
        responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_feedback)
        .service(create_feedback)
        .service(get_feedback)
        .service(update_feedback)
        .service(delete_feedback)
        .service(transitions::transition_feedback)
        .configure(activities::configure)
        .service(calendar_api::get_calendar)
        .service(calendar_api::put_calendar)
        .configure(metrics::configure);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedbackListParams {
    /// Items per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `-received_at` (default: newest first), `received_at`, `updated_at` or `-updated_at`.
    pub sort: Option<String>,
    #[param(value_type = Option<FeedbackKind>)]
    pub kind: Option<String>,
    #[param(value_type = Option<FeedbackStatus>)]
    pub status: Option<String>,
    #[param(value_type = Option<Priority>)]
    pub priority: Option<String>,
    /// Complaints and inquiries in this service-level state now (computed by the database at the time of the request).
    #[param(value_type = Option<SlaState>)]
    pub sla_state: Option<String>,
    /// Exact category (case-insensitive).
    pub category: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    /// Only items received at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub from: Option<DateTime<Utc>>,
    /// Only items received before this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub to: Option<DateTime<Utc>>,
}

impl FeedbackListParams {
    fn query(&self) -> Result<FeedbackQuery, ApiError> {
        Ok(FeedbackQuery {
            kind: self
                .kind
                .as_deref()
                .map(|v| FeedbackKind::from_query("kind", v))
                .transpose()?,
            status: self
                .status
                .as_deref()
                .map(|v| FeedbackStatus::from_query("status", v))
                .transpose()?,
            priority: self
                .priority
                .as_deref()
                .map(|v| Priority::from_query("priority", v))
                .transpose()?,
            sla_state: self
                .sla_state
                .as_deref()
                .map(|v| SlaState::from_query("sla_state", v))
                .transpose()?,
            category: self.category.clone().filter(|c| !c.trim().is_empty()),
            assignee_id: self.assignee_id,
            contact_id: self.contact_id,
            account_id: self.account_id,
            channel_id: self.channel_id,
            engagement_id: self.engagement_id,
            from: self.from,
            to: self.to,
        })
    }
}

/// List feedback
///
/// Newest first by `received_at`, keyset-paginated: follow `next_cursor` until it is null. Every filter combines
/// with the others. `sla_state` is evaluated by the database against the current time.
#[utoipa::path(
    security(("bearer" = ["feedback:read"])),
    tag = "feedback",
    params(FeedbackListParams),
    responses(
        (status = 200, description = "A page of feedback.", body = Page<Feedback>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/feedback")]
async fn list_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<FeedbackListParams>,
) -> ApiResult<web::Json<Page<Feedback>>> {
    principal.require(Area::Feedback, Level::Read)?;
    let query = params.query()?;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    };
    let limit = page.limit()?;
    let sort = Sort::parse(params.sort.as_deref(), &SORTS, "-received_at")?;
    let rows = list::list(&state.db, &query, &sort, page.cursor()?, limit).await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| sort_key(&sort, r),
        FeedbackRow::into_feedback,
    )))
}

/// Record feedback
///
/// Complaints and inquiries start `new` and get service-level due times (see the API description); suggestions,
/// praise and survey answers have no workflow (`status` null). Scores out of range (`csat` 1–5, `nps` 0–10, `ces`
/// 1–7) are 422s naming the field; a survey needs at least one of them. With `contact_id` and no `account_id`,
/// the contact's account is used.
///
/// Partner systems (e.g. a survey platform) post answers with an API key scoped `feedback:write`.
#[utoipa::path(
    security(("bearer" = ["feedback:write"])),
    tag = "feedback",
    request_body = FeedbackIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The feedback was recorded.", body = Feedback, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/feedback")]
async fn create_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<FeedbackIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Feedback, Level::Write)?;
    let new = new_feedback(body.into_inner(), now())?;
    let actor = Actor::new(&principal, &req);
    let out = state
        .db
        .write(|db| async move { repo::create(&db, &actor, new).await })
        .await?;
    Ok(created(
        format!("/v1/feedback/{}", out.id),
        Some(out.version),
        out,
    ))
}

/// Get feedback
#[utoipa::path(
    security(("bearer" = ["feedback:read"])),
    tag = "feedback",
    params(("id" = Uuid, Path, description = "The feedback item's id.")),
    responses(
        (status = 200, description = "The item.", body = Feedback, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/feedback/{id}")]
async fn get_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Feedback, Level::Read)?;
    let out = repo::get(&state.db, *id, now()).await?.into_feedback();
    Ok(ok_versioned(out.version, out))
}

/// Update feedback
///
/// A JSON merge patch of `text`, `csat`, `nps`, `ces`, `contact_id`, `account_id`, `channel_id`, `category`,
/// `priority` and `assignee_id`; `null` clears an optional field. A new `assignee_id` is recorded as an `assignment`
/// activity. A new `priority` or `channel_id` recomputes the due times from `received_at` with the calendar in
/// force (time already spent waiting on the customer still counts). Change `status` with transitions.
#[utoipa::path(
    security(("bearer" = ["feedback:write"])),
    tag = "feedback",
    request_body(content = FeedbackPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The feedback item's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 200, description = "The updated item.", body = Feedback, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/feedback/{id}")]
async fn update_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<FeedbackPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Feedback, Level::Write)?;
    let before = repo::get(&state.db, *id, now()).await?;
    let expected = expected_version(&req)?.unwrap_or(before.version);
    let (fields, fill_account) = patched(&before, body.into_inner())?;
    let actor = Actor::new(&principal, &req);
    let out = state
        .db
        .write(|db| async move {
            repo::update(&db, &actor, &before, expected, fields, fill_account).await
        })
        .await?;
    Ok(ok_versioned(out.version, out))
}

/// Delete feedback
///
/// Admins and managers. Removes the item and its activity log (the audit log keeps the record); its scores no
/// longer count in metrics.
#[utoipa::path(
    security(("bearer" = ["feedback:manage"])),
    tag = "feedback",
    params(
        ("id" = Uuid, Path, description = "The feedback item's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The item was deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/feedback/{id}")]
async fn delete_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Feedback, Level::Manage)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
