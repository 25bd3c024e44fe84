use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    http::{
        ApiResult, Page, PageParams, ValidatedJson, created, pagination::page_from, responses::*,
    },
    loyalty::{
        members::{Member, MemberIn, MemberParams, MemberSummary, TierChange},
        repo::members as repo,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_loyalty_members)
        .service(enrol_loyalty_member)
        .service(get_loyalty_member)
        .service(list_loyalty_tier_changes);
}

/// List loyalty members
///
/// Members in enrolment order, optionally in one tier; keyset-paginated.
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    params(MemberParams),
    responses(
        (status = 200, description = "A page of members.", body = Page<MemberSummary>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/loyalty/members")]
async fn list_loyalty_members(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<MemberParams>,
) -> ApiResult<web::Json<Page<MemberSummary>>> {
    principal.require(Area::Loyalty, Level::Read)?;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    };
    let limit = page.limit()?;
    let rows = repo::list(
        &state.db,
        params.tier.as_deref(),
        page.cursor::<Uuid>()?,
        limit,
    )
    .await?;
    Ok(web::Json(page_from(rows, limit, |r| r.id, |r| r.summary())))
}

/// Enrol a contact
///
/// The contact joins the programme in the lowest tier with no points.
/// A contact that is already a member gets 409; an unknown contact 422.
#[utoipa::path(
    security(("bearer" = ["loyalty:write"])),
    tag = "loyalty",
    request_body = MemberIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The new member.", body = Member, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/loyalty/members")]
async fn enrol_loyalty_member(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: ValidatedJson<MemberIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Loyalty, Level::Write)?;
    let actor = Actor::new(&principal, &req);
    let arg0 = body.0.contact_id;
    let row = state
        .db
        .write(|db| async move { repo::enrol(&db, &actor, arg0).await })
        .await?;
    let member = repo::get(&state.db, row.contact_id).await?;
    Ok(created(
        format!("/v1/loyalty/members/{}", member.contact_id),
        None,
        member,
    ))
}

/// Get a loyalty member
///
/// Balance, lifetime points, tier and the distance to the next tier, and the
/// points expiring in the next 30 days. Points past their expiry date are
/// expired before the answer is given.
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    params(("contact_id" = Uuid, Path, description = "The member's contact id.")),
    responses(
        (status = 200, description = "The member.", body = Member),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/loyalty/members/{contact_id}")]
async fn get_loyalty_member(
    state: web::Data<AppState>,
    principal: Principal,
    contact_id: web::Path<Uuid>,
) -> ApiResult<web::Json<Member>> {
    principal.require(Area::Loyalty, Level::Read)?;
    Ok(web::Json(repo::get(&state.db, *contact_id).await?))
}

/// List a member's tier changes
///
/// Every tier the member entered, newest first, starting with the tier it
/// joined in; includes the history of memberships merged into this one.
#[utoipa::path(
    security(("bearer" = ["loyalty:read"])),
    tag = "loyalty",
    params(("contact_id" = Uuid, Path, description = "The member's contact id."), PageParams),
    responses(
        (status = 200, description = "A page of tier changes.", body = Page<TierChange>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/loyalty/members/{contact_id}/tier-changes")]
async fn list_loyalty_tier_changes(
    state: web::Data<AppState>,
    principal: Principal,
    contact_id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<TierChange>>> {
    principal.require(Area::Loyalty, Level::Read)?;
    let limit = page.limit()?;
    let before = page.cursor::<(DateTime<Utc>, Uuid)>()?;
    let rows = repo::tier_history(&state.db, *contact_id, before, limit).await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| (r.occurred_at, r.id),
        |r| r,
    )))
}
