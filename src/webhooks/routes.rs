use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::TimeDelta;
use uuid::Uuid;

use super::{
    model::{CreatedEndpoint, Endpoint, EndpointIn, EndpointPatch, RotateIn, RotatedSecret},
    repo::{self},
    signing,
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    db::now,
    http::{
        ApiError, ApiResult, Page, PageParams, check::Check, created, etag::expected_version,
        idempotency::holds_secret, ok_versioned, pagination::page_from, responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_endpoints)
        .service(create_endpoint)
        .service(get_endpoint)
        .service(update_endpoint)
        .service(delete_endpoint)
        .service(rotate_secret);
    super::delivery_routes::configure(cfg);
}

pub(super) fn admin(principal: &Principal) -> Result<(), ApiError> {
    principal.require(Area::Settings, Level::Admin)
}

/// List webhook endpoints
///
/// Admins only. Oldest first.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    params(PageParams),
    responses(
        (status = 200, description = "A page of endpoints.", body = Page<Endpoint>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/webhook-endpoints")]
async fn list_endpoints(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<Endpoint>>> {
    admin(&principal)?;
    let limit = page.limit()?;
    let rows = repo::list(&state.db, page.cursor::<Uuid>()?, limit).await?;
    let now = now();
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| r.id,
        |r| r.into_endpoint(now),
    )))
}

/// Create a webhook endpoint
///
/// Admins only. Rapport then POSTs every event of the chosen types that happens from now on to `url`, signed per
/// the Standard Webhooks specification (<https://www.standardwebhooks.com>), so its published libraries verify
/// deliveries as they are: headers `webhook-id` (the event's id, the same on every attempt: use it to drop
/// duplicates), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
/// (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret in use, space-separated); body
/// `{"type", "timestamp", "data"}` with `data` as in `GET /v1/events`.
///
/// Delivery is at least once. Any answer outside 2xx, a timeout (10 s) or a refused connection is retried after
/// 5 s, 1 min, 5 min, 30 min, 1 h, 3 h, 6 h, 12 h, 24 h and 24 h (each ±20%, about three days in all); after the
/// last failure the delivery is `failed`, and when no delivery to the endpoint succeeded in that time the endpoint
/// is disabled (event `webhook_endpoint.disabled`). Redirects are not followed. The response holds the signing
/// secret, shown this once.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    request_body = EndpointIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe; a retry is told the secret was already shown.")),
    responses(
        (status = 201, description = "The endpoint, with its signing secret.", body = CreatedEndpoint,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/webhook-endpoints")]
async fn create_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<EndpointIn>,
) -> ApiResult<HttpResponse> {
    admin(&principal)?;
    body.checked(&state.hooks, state.settings.webhook_allow_private_urls)?;
    let secret = signing::new_secret();
    let actor = Actor::new(&principal, &req);
    let row = state
        .db
        .write({
            let secret = secret.clone();
            |db| async move { repo::create(&db, &actor, &body, &secret).await }
        })
        .await?;
    let endpoint = row.into_endpoint(now());
    Ok(holds_secret(created(
        format!("/v1/webhook-endpoints/{}", endpoint.id),
        Some(endpoint.version),
        CreatedEndpoint { endpoint, secret },
    )))
}

/// Get a webhook endpoint
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "The endpoint (never its secret).", body = Endpoint, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/webhook-endpoints/{id}")]
async fn get_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    admin(&principal)?;
    let endpoint = repo::get(&state.db, *id).await?.into_endpoint(now());
    Ok(ok_versioned(endpoint.version, endpoint))
}

/// Update a webhook endpoint
///
/// JSON merge patch. `{"enabled": false}` pauses deliveries (pending ones wait, events meanwhile are not queued
/// for it); `{"enabled": true}` resumes them, also after the server disabled the endpoint.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    request_body(content = EndpointPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The endpoint's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read; 412 if the endpoint changed since."),
    ),
    responses(
        (status = 200, description = "The updated endpoint.", body = Endpoint, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/webhook-endpoints/{id}")]
async fn update_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<EndpointPatch>,
) -> ApiResult<HttpResponse> {
    admin(&principal)?;
    let allow_private = state.settings.webhook_allow_private_urls;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    let input = body.into_inner();
    let hooks = state.hooks.clone();
    let check = move |input: &EndpointIn| input.checked(&hooks, allow_private);
    let row = state
        .db
        .write(|db| async move { repo::update(&db, &actor, id, expected, input, check).await })
        .await?;
    let endpoint = row.into_endpoint(now());
    Ok(ok_versioned(endpoint.version, endpoint))
}

/// Delete a webhook endpoint
///
/// Its deliveries and their attempts go with it.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "The endpoint's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The endpoint was deleted."),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/webhook-endpoints/{id}")]
async fn delete_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    admin(&principal)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate an endpoint's signing secret
///
/// A new secret signs from now on; the old one keeps signing next to it for `overlap_hours` (default 24), so the
/// receiver can switch without rejecting a delivery. The body may be empty. The new secret is shown this once.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    request_body(content = Option<RotateIn>),
    params(("id" = Uuid, Path, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "The new secret.", body = RotatedSecret, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/webhook-endpoints/{id}/rotate-secret")]
async fn rotate_secret(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    admin(&principal)?;
    let input: RotateIn = if body.iter().all(u8::is_ascii_whitespace) {
        RotateIn::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "The JSON body does not match the expected shape: {e}."
            ))
        })?
    };
    Check::validated(&input).finish()?;
    let overlap = TimeDelta::hours(input.overlap_hours.unwrap_or(24));
    let secret = signing::new_secret();
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let (row, until) = state
        .db
        .write({
            let secret = secret.clone();
            move |db| async move { repo::rotate(&db, &actor, id, &secret, overlap).await }
        })
        .await?;
    Ok(holds_secret(ok_versioned(
        row.version,
        RotatedSecret {
            secret,
            previous_secret_expires_at: until,
        },
    )))
}
