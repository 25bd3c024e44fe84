use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    filter::Members,
    model::{Segment, SegmentEntity, SegmentIn, SegmentPatch, SegmentRow},
    repo::{self, SORTS},
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    db::now,
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
    cfg.service(list_segments)
        .service(create_segment)
        .service(get_segment)
        .service(update_segment)
        .service(delete_segment)
        .configure(super::members::configure);
}

/// The segment with its members counted now, when the caller may read them
/// (else `member_count` stays null: the count says something about the
/// records). A stored filter that no longer reads is not counted either.
async fn counted(state: &AppState, principal: &Principal, row: SegmentRow) -> ApiResult<Segment> {
    let entity = row.entity;
    let mut segment = row.into_segment();
    if principal.require(entity.area(), Level::Read).is_err() {
        return Ok(segment);
    }
    match Members::parse(entity, &segment.filter) {
        Ok(members) => {
            segment.counted_at = Some(now());
            segment.member_count = Some(members.count(&state.db, principal).await?);
        }
        Err(errors) => {
            tracing::warn!(segment_id = %segment.id, ?errors, "stored segment filter no longer reads")
        }
    }
    Ok(segment)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SegmentListParams {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `created_at` (default) or `updated_at`; prefix with `-` for descending.
    pub sort: Option<String>,
    /// Only segments over this entity.
    pub entity: Option<SegmentEntity>,
}

/// List segments
///
/// Keyset-paginated: follow `next_cursor` until it is null. `member_count` is null here (counting every segment
/// of a page would cost a query each): `GET /v1/segments/{id}` counts one.
#[utoipa::path(
    security(("bearer" = ["segments:read"])),
    tag = "segments",
    params(SegmentListParams),
    responses(
        (status = 200, description = "A page of segments.", body = Page<Segment>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/segments")]
async fn list_segments(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<SegmentListParams>,
) -> ApiResult<web::Json<Page<Segment>>> {
    principal.require(Area::Segments, Level::Read)?;
    let p = params.into_inner();
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    let limit = page.limit()?;
    let sort = Sort::parse(p.sort.as_deref(), &SORTS, "created_at")?;
    let rows = repo::list(&state.db, p.entity, &sort, page.cursor()?, limit).await?;
    let key = |r: &SegmentRow| match sort.field {
        "updated_at" => sort.cursor_for(time_key(&r.updated_at), r.id),
        _ => sort.cursor_for(time_key(&r.created_at), r.id),
    };
    Ok(web::Json(page_from(
        rows,
        limit,
        key,
        SegmentRow::into_segment,
    )))
}

/// Create a segment
///
/// A segment saves the filters of the contact or account list under a name, for example every customer in
/// Germany at a key account: `{"name": "German customers at key accounts", "entity": "contacts", "filter":
/// {"lifecycle_stage": "customer", "country": "DE", "key_account": true}}`. The filter is checked by the list
/// itself: an unknown filter or a value the list would refuse is a 422 naming `filter.<name>`. The answer carries
/// `member_count`, counted now.
#[utoipa::path(
    security(("bearer" = ["segments:write"])),
    tag = "segments",
    request_body = SegmentIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The segment was created.", body = Segment, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/segments")]
async fn create_segment(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<SegmentIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Segments, Level::Write)?;
    let fields = body.into_inner().into_fields(None)?;
    let actor = Actor::new(&principal, &req);
    let row = state
        .db
        .write(|db| async move { repo::create(&db, &actor, fields).await })
        .await?;
    let segment = counted(&state, &principal, row).await?;
    Ok(created(
        format!("/v1/segments/{}", segment.id),
        Some(segment.version),
        segment,
    ))
}

/// Get a segment
///
/// With `member_count`, the number of records matching the filter now (null for a caller who cannot read the
/// segment's entity).
#[utoipa::path(
    security(("bearer" = ["segments:read"])),
    tag = "segments",
    params(("id" = Uuid, Path, description = "The segment's id.")),
    responses(
        (status = 200, description = "The segment.", body = Segment, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/segments/{id}")]
async fn get_segment(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Segments, Level::Read)?;
    let segment = counted(&state, &principal, repo::get(&state.db, *id).await?).await?;
    Ok(ok_versioned(segment.version, segment))
}

/// Update a segment
///
/// A JSON merge patch: send only what changes. `filter` merges member by member: `{"filter": {"country": "AT",
/// "key_account": null}}` sets the country filter and removes the key-account one; the result is checked as on
/// create. `entity` cannot change. With `If-Match`, the change applies only if the segment is still at that
/// version (else 412).
#[utoipa::path(
    security(("bearer" = ["segments:write"])),
    tag = "segments",
    request_body(content = SegmentPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The segment's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 200, description = "The updated segment.", body = Segment, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/segments/{id}")]
async fn update_segment(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<SegmentPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Segments, Level::Write)?;
    let before = repo::get(&state.db, *id).await?;
    let expected = expected_version(&req)?.unwrap_or(before.version);
    let fields = patched(before.to_input(), body.into_inner())?.into_fields(Some(before.entity))?;
    let actor = Actor::new(&principal, &req);
    let row = state
        .db
        .write(|db| async move { repo::update(&db, &actor, &before, expected, fields).await })
        .await?;
    let segment = counted(&state, &principal, row).await?;
    Ok(ok_versioned(segment.version, segment))
}

/// Delete a segment
///
/// Deletes the saved filter only; its members are untouched.
#[utoipa::path(
    security(("bearer" = ["segments:manage"])),
    tag = "segments",
    params(
        ("id" = Uuid, Path, description = "The segment's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The segment was deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/segments/{id}")]
async fn delete_segment(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Segments, Level::Manage)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
