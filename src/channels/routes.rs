use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    metrics,
    model::{Channel, ChannelFilter, ChannelIn, ChannelKind, ChannelPatch},
    repo,
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    http::{
        ApiResult, Page, PageParams, created, etag::expected_version, ok_versioned,
        pagination::page_from, responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_channels)
        .service(create_channel)
        .service(get_channel)
        .service(update_channel)
        .service(delete_channel)
        .service(metrics::channel_metrics);
}

/// List channels
///
/// In creation order, keyset-paginated; filter by `kind` and `active`.
#[utoipa::path(
    security(("bearer" = ["channels:read"])),
    tag = "channels",
    params(ChannelFilter),
    responses(
        (status = 200, description = "A page of channels.", body = Page<Channel>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/channels")]
async fn list_channels(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<ChannelFilter>,
) -> ApiResult<web::Json<Page<Channel>>> {
    principal.require(Area::Channels, Level::Read)?;
    let page = PageParams {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    };
    let limit = page.limit()?;
    let kind = filter
        .kind
        .as_deref()
        .map(|k| ChannelKind::from_query("kind", k))
        .transpose()?;
    let rows = repo::list(
        &state.db,
        kind,
        filter.active,
        page.cursor::<Uuid>()?,
        limit,
    )
    .await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| r.id,
        |r| r.into_channel(),
    )))
}

/// Create a channel
///
/// `kind` is one of the fixed list; `name` is unique (case-insensitive). The
/// service-level targets are used by feedback received on the channel.
#[utoipa::path(
    security(("bearer" = ["channels:write"])),
    tag = "channels",
    request_body = ChannelIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The channel was created.", body = Channel,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/channels")]
async fn create_channel(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<ChannelIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Channels, Level::Write)?;
    let input = body.into_inner();
    let kind = input.checked()?;
    let actor = Actor::new(&principal, &req);
    let channel = state
        .db
        .write(|db| async move { repo::create(&db, &actor, &input, kind).await })
        .await?;
    Ok(created(
        format!("/v1/channels/{}", channel.id),
        Some(channel.version),
        channel,
    ))
}

/// Get a channel
#[utoipa::path(
    security(("bearer" = ["channels:read"])),
    tag = "channels",
    params(("id" = Uuid, Path, description = "The channel's id.")),
    responses(
        (status = 200, description = "The channel.", body = Channel, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/channels/{id}")]
async fn get_channel(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Channels, Level::Read)?;
    let channel = repo::get(&state.db, *id).await?.into_channel();
    Ok(ok_versioned(channel.version, channel))
}

/// Update a channel
///
/// JSON merge patch. Deactivate a channel (`{"active": false}`) to stop new
/// interactions on it while keeping its history; `null` clears a service-level
/// target.
#[utoipa::path(
    security(("bearer" = ["channels:write"])),
    tag = "channels",
    request_body(content = ChannelPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The channel's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read; the change is refused with 412 if the channel changed since."),
    ),
    responses(
        (status = 200, description = "The updated channel.", body = Channel, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/channels/{id}")]
async fn update_channel(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<ChannelPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Channels, Level::Write)?;
    let (actor, id, expected) = (Actor::new(&principal, &req), *id, expected_version(&req)?);
    let patch = body.into_inner();
    let channel = state
        .db
        .write(|db| async move { repo::update(&db, &actor, id, expected, patch).await })
        .await?;
    Ok(ok_versioned(channel.version, channel))
}

/// Delete a channel
///
/// Only a channel nothing was recorded on can be deleted; one with
/// interactions or feedback answers 409: deactivate it instead.
#[utoipa::path(
    security(("bearer" = ["channels:manage"])),
    tag = "channels",
    params(
        ("id" = Uuid, Path, description = "The channel's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The channel was deleted."),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/channels/{id}")]
async fn delete_channel(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Channels, Level::Manage)?;
    let (actor, id, expected) = (Actor::new(&principal, &req), *id, expected_version(&req)?);
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
