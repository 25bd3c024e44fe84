use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::required_key;
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    http::{
        ApiError, ApiResult, PageParams, ValidatedJson, created, pagination::page_from,
        responses::*,
    },
    loyalty::{
        ledger::{
            AdjustIn, EarnIn, LedgerEntry, LedgerPage, LedgerParams, RedeemIn, ReverseIn,
            clean_reason, earned_points,
        },
        repo::{
            ledger::{self as repo, Request},
            posting::Posted,
            program,
        },
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(earn_loyalty_points)
        .service(redeem_loyalty_points)
        .service(adjust_loyalty_points)
        .service(list_loyalty_ledger)
        .service(get_loyalty_ledger_entry)
        .service(reverse_loyalty_ledger_entry);
}

fn entry_created(posted: Posted) -> HttpResponse {
    let entry = posted.entry.into_entry(Some(posted.lots));
    created(
        format!(
            "/v1/loyalty/members/{}/ledger/{}",
            entry.contact_id, entry.id
        ),
        None,
        entry,
    )
}

/// Earn points
///
/// Credits points to a member: either `points`, or a purchase `amount_minor`
/// + `currency` converted with the programme's earn rate (rounded down). The
/// points form one lot that expires under the programme's policy. Requires an
/// `Idempotency-Key`: a retry with the same key and body returns the first
/// response and credits nothing; the same key with another body gets 422.
#[utoipa::path(
    security(("bearer" = ["loyalty:write"])),
    tag = "loyalty",
    request_body = EarnIn,
    params(
        ("contact_id" = Uuid, Path, description = "The member's contact id."),
        ("Idempotency-Key" = String, Header, description = "Required: a unique string per operation (e.g. the till's receipt id); a retry never earns twice."),
    ),
    responses(
        (status = 201, description = "The `earn` entry, with the lot it opened.", body = LedgerEntry, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
        (status = 428, response = PreconditionRequired),
    )
)]
#[post("/loyalty/members/{contact_id}/earn")]
async fn earn_loyalty_points(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    contact_id: web::Path<Uuid>,
    body: ValidatedJson<EarnIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Write)?;
    let key = required_key(&req)?;
    let program = program::get(&state.db).await?;
    let (points, amount) = earned_points(&body.0, &program.earn_rate())?;
    let reason = clean_reason(body.0.reason.as_deref());
    let actor = Actor::new(&principal, &req);
    let contact_id = *contact_id;
    let entry = state
        .db
        .write(|db| async move {
            let request = Request {
                contact_id,
                key: &key,
                reason: reason.as_deref(),
                actor: &actor,
            };
            let amount = amount.as_ref().map(|(a, c)| (*a, c.as_str()));
            repo::earn(&db, &request, program, points, amount).await
        })
        .await?;
    Ok(entry_created(entry))
}

/// Redeem points
///
/// Spends points from the oldest-expiring lots first; the response lists the
/// lots used. A redemption above the balance is refused with 409 (the body's
/// `balance` says what is available); the balance never goes below zero, even
/// under concurrent requests on several servers. Requires an `Idempotency-Key`.
#[utoipa::path(
    security(("bearer" = ["loyalty:write"])),
    tag = "loyalty",
    request_body = RedeemIn,
    params(
        ("contact_id" = Uuid, Path, description = "The member's contact id."),
        ("Idempotency-Key" = String, Header, description = "Required: a unique string per operation; a retry never spends twice."),
    ),
    responses(
        (status = 201, description = "The `redeem` entry, with the lots used.", body = LedgerEntry, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
        (status = 428, response = PreconditionRequired),
    )
)]
#[post("/loyalty/members/{contact_id}/redeem")]
async fn redeem_loyalty_points(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    contact_id: web::Path<Uuid>,
    body: ValidatedJson<RedeemIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Write)?;
    let key = required_key(&req)?;
    let reason = clean_reason(body.0.reason.as_deref());
    let actor = Actor::new(&principal, &req);
    let contact_id = *contact_id;
    let points = body.0.points;
    let entry = state
        .db
        .write(|db| async move {
            let request = Request {
                contact_id,
                key: &key,
                reason: reason.as_deref(),
                actor: &actor,
            };
            repo::redeem(&db, &request, points).await
        })
        .await?;
    Ok(entry_created(entry))
}

/// Adjust points
///
/// Managers and admins. A correction with a required reason: positive points
/// open a lot like an earning, negative points are taken like a redemption
/// (409 when above the balance). Both count towards lifetime points.
/// Requires an `Idempotency-Key`.
#[utoipa::path(
    security(("bearer" = ["loyalty:manage"])),
    tag = "loyalty",
    request_body = AdjustIn,
    params(
        ("contact_id" = Uuid, Path, description = "The member's contact id."),
        ("Idempotency-Key" = String, Header, description = "Required: a unique string per operation."),
    ),
    responses(
        (status = 201, description = "The `adjust` entry, with its lots.", body = LedgerEntry, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
        (status = 428, response = PreconditionRequired),
    )
)]
#[post("/loyalty/members/{contact_id}/adjust")]
async fn adjust_loyalty_points(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    contact_id: web::Path<Uuid>,
    body: ValidatedJson<AdjustIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Manage)?;
    let key = required_key(&req)?;
    if body.0.points == 0 {
        return Err(ApiError::field("points", "non_zero", "must not be 0"));
    }
    let reason = clean_reason(Some(&body.0.reason))
        .ok_or_else(|| ApiError::field("reason", "required", "must not be blank"))?;
    let actor = Actor::new(&principal, &req);
    let contact_id = *contact_id;
    let points = body.0.points;
    let entry = state
        .db
        .write(|db| async move {
            let request = Request {
                contact_id,
                key: &key,
                reason: Some(reason.as_str()),
                actor: &actor,
            };
            repo::adjust(&db, &request, points).await
        })
        .await?;
    Ok(entry_created(entry))
}

/// List a member's ledger
///
/// Entries newest first, keyset-paginated, with `balance`: the sum of all
/// entries up to `as_of` (or now), computed from the ledger itself. With
/// `as_of`, only entries written at or before it are listed.
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    params(("contact_id" = Uuid, Path, description = "The member's contact id."), LedgerParams),
    responses(
        (status = 200, description = "A page of entries and the balance.", body = LedgerPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/loyalty/members/{contact_id}/ledger")]
async fn list_loyalty_ledger(
    state: web::Data<AppState>,
    principal: Principal,
    contact_id: web::Path<Uuid>,
    params: web::Query<LedgerParams>,
) -> ApiResult<web::Json<LedgerPage>> {
    principal.require(Area::Loyalty, Level::Read)?;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    };
    let limit = page.limit()?;
    let before = page.cursor::<(DateTime<Utc>, Uuid)>()?;
    let member_id = repo::member_id(&state.db, *contact_id).await?;
    let rows = repo::list(
        &state.db,
        member_id,
        params.as_of,
        params.kind,
        before,
        limit,
    )
    .await?;
    let balance = repo::balance_at(&state.db, member_id, params.as_of).await?;
    let page = page_from(
        rows,
        limit,
        |r| (r.created_at, r.id),
        |r| r.into_entry(None),
    );
    Ok(web::Json(LedgerPage {
        contact_id: *contact_id,
        as_of: params.as_of,
        balance,
        data: page.data,
        next_cursor: page.next_cursor,
    }))
}

/// Get a ledger entry
///
/// One entry with the lots it credited or took its points from.
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    params(
        ("contact_id" = Uuid, Path, description = "The member's contact id."),
        ("entry_id" = Uuid, Path, description = "The entry's id."),
    ),
    responses(
        (status = 200, description = "The entry.", body = LedgerEntry),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/loyalty/members/{contact_id}/ledger/{entry_id}")]
async fn get_loyalty_ledger_entry(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<LedgerEntry>> {
    principal.require(Area::Loyalty, Level::Read)?;
    let (contact_id, entry_id) = path.into_inner();
    let (row, lots) = repo::get_entry(&state.db, contact_id, entry_id).await?;
    Ok(web::Json(row.into_entry(Some(lots))))
}

/// Reverse a ledger entry
///
/// Managers and admins. Writes a `reverse` entry with the opposite points:
/// reversing an earning takes its points back (409 if they were already
/// spent and the balance is short), reversing a redemption or a negative
/// adjustment gives the points back with their original expiry dates. An
/// entry is reversed at most once; `expire` and `reverse` entries cannot be
/// reversed, and reward redemptions are undone by cancelling them.
/// Requires an `Idempotency-Key`.
#[utoipa::path(
    security(("bearer" = ["loyalty:manage"])),
    tag = "loyalty",
    request_body = ReverseIn,
    params(
        ("contact_id" = Uuid, Path, description = "The member's contact id."),
        ("entry_id" = Uuid, Path, description = "The entry to reverse."),
        ("Idempotency-Key" = String, Header, description = "Required: a unique string per operation."),
    ),
    responses(
        (status = 201, description = "The `reverse` entry.", body = LedgerEntry, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
        (status = 428, response = PreconditionRequired),
    )
)]
#[post("/loyalty/members/{contact_id}/ledger/{entry_id}/reverse")]
async fn reverse_loyalty_ledger_entry(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidatedJson<ReverseIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Manage)?;
    let key = required_key(&req)?;
    let (contact_id, entry_id) = path.into_inner();
    let reason = clean_reason(body.0.reason.as_deref());
    let actor = Actor::new(&principal, &req);
    let entry = state
        .db
        .write(|db| async move {
            let request = Request {
                contact_id,
                key: &key,
                reason: reason.as_deref(),
                actor: &actor,
            };
            repo::reverse(&db, &request, entry_id).await
        })
        .await?;
    Ok(entry_created(entry))
}
