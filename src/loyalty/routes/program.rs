use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    http::{
        ApiError, ApiResult, ValidatedJson, etag::expected_version, ok_versioned, responses::*,
    },
    loyalty::{
        ExpiryReport, expire_due_points,
        program::{Program, ProgramIn, check_program},
        repo::program as repo,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_loyalty_program)
        .service(replace_loyalty_program)
        .service(run_loyalty_expiry);
}

/// Get the loyalty programme
///
/// The programme's name, earn rate, tiers and expiry policy. A fresh install
/// has a default programme ("Rewards": 1 point per EUR 1.00; tiers Member 0,
/// Silver 1000, Gold 5000 over lifetime points; points never expire).
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    responses(
        (status = 200, description = "The programme.", body = Program, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/loyalty/program")]
async fn get_loyalty_program(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Read)?;
    let program = repo::get(&state.db).await?.into_program();
    Ok(ok_versioned(program.version, program))
}

/// Replace the loyalty programme
///
/// Admins only. Replaces every setting. Tier changes apply to each member
/// at its next read or write (and are recorded in its tier history); a new
/// expiry policy applies to points earned from then on.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "loyalty",
    request_body = ProgramIn,
    params(("If-Match" = Option<String>, Header, description = "The ETag of your last read; refused with 412 if the programme changed since.")),
    responses(
        (status = 200, description = "The new settings.", body = Program, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[put("/loyalty/program")]
async fn replace_loyalty_program(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: ValidatedJson<ProgramIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Settings, Level::Admin)?;
    let input = check_program(body.0).map_err(ApiError::validation)?;
    let actor = Actor::new(&principal, &req);
    let expected = expected_version(&req)?;
    let (_, after) = state
        .db
        .write(|db| async move { repo::replace(&db, &actor, &input, expected).await })
        .await?;
    let program = after.into_program();
    Ok(ok_versioned(program.version, program))
}

/// Expire due points now
///
/// Managers and admins. Writes an `expire` entry for every lot whose expiry
/// date has passed. The server also does this every hour, on every write to
/// a member and on member reads, and `rapport loyalty expire` does it from
/// the command line; running it again expires nothing twice.
#[utoipa::path(
    security(("bearer" = ["loyalty:manage"])),
    tag = "loyalty",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 200, description = "What this run expired.", body = ExpiryReport),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[post("/loyalty/expire-run")]
async fn run_loyalty_expiry(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<ExpiryReport>> {
    principal.require(Area::Loyalty, Level::Manage)?;
    let expired = state
        .db
        .write(|db| async move { expire_due_points(&db).await })
        .await?;
    Ok(web::Json(expired))
}
