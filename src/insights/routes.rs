//! `GET /v1/accounts/{id}/insights`, `GET /v1/contacts/{id}/insights` and
//! `POST /v1/insights/refresh`.

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    figures::Subject,
    model::Insights,
    refresh::{self, RefreshReport},
};
use crate::{
    auth::{Area, Level, Principal},
    http::{ApiError, ApiResult, responses::*},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(account_insights)
        .service(contact_insights)
        .service(refresh_insights);
}

async fn insights(state: &AppState, subject: Subject, id: Uuid) -> ApiResult<HttpResponse> {
    match refresh::for_customer(&state.db, subject, id).await? {
        Some(insights) => Ok(HttpResponse::Ok().json(insights)),
        None => Err(ApiError::not_found(subject.as_str(), id)),
    }
}

/// An account's insights
///
/// RFM scores and segment, loyalty status with its reasons, satisfaction, churn risk and value tier, as last
/// computed (`computed_at`): within seconds of a purchase, refund, feedback or change to the account, and for
/// every account hourly. The formulas are in the `Insights` schema.
#[utoipa::path(
    security(("bearer" = ["accounts:read"])),
    tag = "insights",
    params(("id" = Uuid, Path, description = "The account's id.")),
    responses(
        (status = 200, description = "The account's insights.", body = Insights),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/accounts/{id}/insights")]
async fn account_insights(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Accounts, Level::Read)?;
    insights(&state, Subject::Account, *id).await
}

/// A contact's insights
///
/// The same measurements as an account's, over the contact's own purchases (transactions naming the contact)
/// and feedback; the scores rank the contact among contacts.
#[utoipa::path(
    security(("bearer" = ["contacts:read"])),
    tag = "insights",
    params(("id" = Uuid, Path, description = "The contact's id.")),
    responses(
        (status = 200, description = "The contact's insights.", body = Insights),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/contacts/{id}/insights")]
async fn contact_insights(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Contacts, Level::Read)?;
    insights(&state, Subject::Contact, *id).await
}

/// Recompute every customer's insights now
///
/// Admins only. Recomputes every account and contact (the background job does it hourly and after a settings
/// change) and answers when done: seconds for thousands of customers; for hundreds of thousands prefer the
/// command `rapport insights refresh`.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "insights",
    responses(
        (status = 200, description = "How many customers were recomputed.", body = RefreshReport),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[post("/insights/refresh")]
async fn refresh_insights(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<RefreshReport>> {
    principal.require(Area::Settings, Level::Admin)?;
    let refreshed = state
        .db
        .write(|db| async move { refresh::refresh_all(&db).await })
        .await?;
    Ok(web::Json(refreshed))
}
