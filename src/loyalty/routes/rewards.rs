use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    http::{
        ApiResult, Page, PageParams, created, etag::expected_version, ok_versioned,
        pagination::page_from, responses::*,
    },
    loyalty::{
        repo::rewards as repo,
        rewards::{Reward, RewardIn, RewardParams, RewardPatch},
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_loyalty_rewards)
        .service(create_loyalty_reward)
        .service(get_loyalty_reward)
        .service(update_loyalty_reward)
        .service(delete_loyalty_reward);
}

/// List rewards
///
/// The catalogue in creation order, optionally only active or inactive rewards.
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    params(RewardParams),
    responses(
        (status = 200, description = "A page of rewards.", body = Page<Reward>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/loyalty/rewards")]
async fn list_loyalty_rewards(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<RewardParams>,
) -> ApiResult<web::Json<Page<Reward>>> {
    principal.require(Area::Loyalty, Level::Read)?;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    };
    let limit = page.limit()?;
    let rows = repo::list(&state.db, params.active, page.cursor::<Uuid>()?, limit).await?;
    Ok(web::Json(page_from(rows, limit, |r| r.id, |r| r)))
}

/// Create a reward
///
/// Managers and admins.
#[utoipa::path(
    security(("bearer" = ["loyalty:manage"])),
    tag = "loyalty",
    request_body = RewardIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The reward.", body = Reward, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/loyalty/rewards")]
async fn create_loyalty_reward(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<RewardIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Manage)?;
    let input = body.into_inner().checked()?;
    let actor = Actor::new(&principal, &req);
    let reward = state
        .db
        .write(|db| async move { repo::create(&db, &actor, &input).await })
        .await?;
    Ok(created(
        format!("/v1/loyalty/rewards/{}", reward.id),
        Some(reward.version),
        reward,
    ))
}

/// Get a reward
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    params(("id" = Uuid, Path, description = "The reward's id.")),
    responses(
        (status = 200, description = "The reward.", body = Reward, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/loyalty/rewards/{id}")]
async fn get_loyalty_reward(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Read)?;
    let reward = repo::get(&state.db, *id).await?;
    Ok(ok_versioned(reward.version, reward))
}

/// Update a reward
///
/// Managers and admins; JSON merge patch. Every redemption that takes stock
/// changes the version, so an `If-Match` on a stale read (412) never
/// overwrites stock sold in between.
#[utoipa::path(
    security(("bearer" = ["loyalty:manage"])),
    tag = "loyalty",
    request_body(content = RewardPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The reward's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read; refused with 412 if the reward changed since."),
    ),
    responses(
        (status = 200, description = "The updated reward.", body = Reward, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/loyalty/rewards/{id}")]
async fn update_loyalty_reward(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<RewardPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Manage)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    let input = body.into_inner();
    let reward = state
        .db
        .write(|db| async move { repo::update(&db, &actor, id, expected, input).await })
        .await?;
    Ok(ok_versioned(reward.version, reward))
}

/// Delete a reward
///
/// Managers and admins. The reward leaves the catalogue and can no longer be
/// redeemed; past redemptions keep referring to it.
#[utoipa::path(
    security(("bearer" = ["loyalty:manage"])),
    tag = "loyalty",
    params(
        ("id" = Uuid, Path, description = "The reward's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The reward was deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/loyalty/rewards/{id}")]
async fn delete_loyalty_reward(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Manage)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
