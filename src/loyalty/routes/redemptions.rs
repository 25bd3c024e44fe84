use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::required_key;
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    http::{
        ApiResult, Page, PageParams, ValidatedJson, created, pagination::page_from, responses::*,
    },
    loyalty::{
        ledger::clean_reason,
        repo::redemptions::{self as repo, Filter, NewRedemption},
        rewards::{CancelIn, Redemption, RedemptionIn, RedemptionParams},
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_loyalty_redemptions)
        .service(create_loyalty_redemption)
        .service(get_loyalty_redemption)
        .service(cancel_loyalty_redemption);
}

/// List redemptions
///
/// Newest first; filter by member, reward or status.
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    params(RedemptionParams),
    responses(
        (status = 200, description = "A page of redemptions.", body = Page<Redemption>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/loyalty/redemptions")]
async fn list_loyalty_redemptions(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<RedemptionParams>,
) -> ApiResult<web::Json<Page<Redemption>>> {
    principal.require(Area::Loyalty, Level::Read)?;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    };
    let limit = page.limit()?;
    let filter = Filter {
        contact_id: params.contact_id,
        reward_id: params.reward_id,
        status: params.status,
    };
    let rows = repo::list(&state.db, &filter, page.cursor::<Uuid>()?, limit).await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| r.id,
        |r| r.into_redemption(),
    )))
}

/// Redeem a reward
///
/// Takes the reward's cost in points (oldest-expiring lots first) and one
/// unit of its stock, together or not at all: a short balance or an empty
/// stock is a 409 and changes nothing, and the last unit is sold once however
/// many requests race for it. Requires an `Idempotency-Key`.
#[utoipa::path(
    security(("bearer" = ["loyalty:write"])),
    tag = "loyalty",
    request_body = RedemptionIn,
    params(("Idempotency-Key" = String, Header, description = "Required: a unique string per operation; a retry never redeems twice.")),
    responses(
        (status = 201, description = "The redemption.", body = Redemption, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
        (status = 428, response = PreconditionRequired),
    )
)]
#[post("/loyalty/redemptions")]
async fn create_loyalty_redemption(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: ValidatedJson<RedemptionIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Write)?;
    let key = required_key(&req)?;
    let actor = Actor::new(&principal, &req);
    let reason = clean_reason(body.0.reason.as_deref());
    let (contact_id, reward_id) = (body.0.contact_id, body.0.reward_id);
    let redemption = state
        .db
        .write(|db| async move {
            let new = NewRedemption {
                contact_id,
                reward_id,
                reason: reason.as_deref(),
                key: &key,
                actor: &actor,
            };
            repo::create(&db, &new).await
        })
        .await?
        .into_redemption();
    Ok(created(
        format!("/v1/loyalty/redemptions/{}", redemption.id),
        None,
        redemption,
    ))
}

/// Get a redemption
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    params(("id" = Uuid, Path, description = "The redemption's id.")),
    responses(
        (status = 200, description = "The redemption.", body = Redemption),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/loyalty/redemptions/{id}")]
async fn get_loyalty_redemption(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Redemption>> {
    principal.require(Area::Loyalty, Level::Read)?;
    Ok(web::Json(
        repo::get(&state.db, *id).await?.into_redemption(),
    ))
}

/// Cancel a redemption
///
/// Managers and admins. Gives the points back (a `reverse` entry, into lots
/// with their original expiry dates) and returns the unit to stock. A
/// redemption is cancelled once; again is 409. Requires an `Idempotency-Key`.
#[utoipa::path(
    security(("bearer" = ["loyalty:manage"])),
    tag = "loyalty",
    request_body = CancelIn,
    params(
        ("id" = Uuid, Path, description = "The redemption's id."),
        ("Idempotency-Key" = String, Header, description = "Required: a unique string per operation."),
    ),
    responses(
        (status = 200, description = "The cancelled redemption.", body = Redemption),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
        (status = 428, response = PreconditionRequired),
    )
)]
#[post("/loyalty/redemptions/{id}/cancel")]
async fn cancel_loyalty_redemption(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ValidatedJson<CancelIn>,
) -> ApiResult<web::Json<Redemption>> {
    principal.require(Area::Loyalty, Level::Manage)?;
    let key = required_key(&req)?;
    let reason = clean_reason(body.0.reason.as_deref());
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let redemption = state
        .db
        .write(|db| async move { repo::cancel(&db, id, reason.as_deref(), &key, &actor).await })
        .await?;
    Ok(web::Json(redemption.into_redemption()))
}
