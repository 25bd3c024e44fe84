use actix_web::{HttpRequest, HttpResponse, get, http::header, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    model::{Transaction, TransactionIn, TransactionKind, TransactionRow},
    repo::{self, DEFAULT_SORT, SORTS, TransactionQuery},
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    db::now,
    http::{
        ApiError, ApiResult, Page, PageParams,
        pagination::{Sort, page_from},
        responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_transactions)
        .service(create_transaction)
        .configure(super::import::configure)
        .service(get_transaction);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransactionListParams {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `-occurred_at` (newest first, the default) or `occurred_at`.
    pub sort: Option<String>,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub kind: Option<TransactionKind>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// Only transactions at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub from: Option<DateTime<Utc>>,
    /// Only transactions before this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub to: Option<DateTime<Utc>>,
    /// Adds `total`, the number of transactions matching the filters.
    pub include_total: Option<bool>,
}

/// List transactions
///
/// Keyset-paginated: follow `next_cursor` until it is null.
#[utoipa::path(
    security(("bearer" = ["transactions:read"])),
    tag = "transactions",
    params(TransactionListParams),
    responses(
        (status = 200, description = "A page of transactions.", body = Page<Transaction>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/transactions")]
async fn list_transactions(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<TransactionListParams>,
) -> ApiResult<web::Json<Page<Transaction>>> {
    principal.require(Area::Transactions, Level::Read)?;
    let p = params.into_inner();
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    let limit = page.limit()?;
    let sort = Sort::parse(p.sort.as_deref(), &SORTS, DEFAULT_SORT)?;
    if let (Some(from), Some(to)) = (p.from, p.to)
        && to <= from
    {
        return Err(ApiError::bad_request("`to` must be after `from`."));
    }
    let query = TransactionQuery {
        account_id: p.account_id,
        contact_id: p.contact_id,
        engagement_id: p.engagement_id,
        kind: p.kind,
        currency: p.currency,
        from: p.from,
        to: p.to,
    };
    let rows = repo::list(&state.db, &query, &sort, page.cursor()?, limit).await?;
    let key = |r: &TransactionRow| {
        sort.cursor_for(crate::http::pagination::time_key(&r.occurred_at), r.id)
    };
    let mut result = page_from(rows, limit, key, TransactionRow::into_transaction);
    if p.include_total == Some(true) {
        result.total = Some(repo::count(&state.db, &query).await?);
    }
    Ok(web::Json(result))
}

/// Record a transaction
///
/// A purchase or a refund, as the billing system has it. Transactions cannot be changed or deleted: correct a
/// purchase with a refund. With an `external_id`, posting the same transaction again returns the one stored first
/// (200, nothing written twice, no points earned twice); a different transaction with the same `external_id` for the
/// same customer is a 409. The account's and contact's purchase history (`first_purchase_at`, `last_purchase_at`,
/// `purchase_count`, `lifetime_revenue`) changes in the same database transaction.
#[utoipa::path(
    security(("bearer" = ["transactions:write"])),
    tag = "transactions",
    request_body = TransactionIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The transaction was recorded.", body = Transaction, headers(("Location" = String))),
        (status = 200, description = "The same transaction (same `external_id` and body) was recorded before; this is it.", body = Transaction, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/transactions")]
async fn create_transaction(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<TransactionIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Transactions, Level::Write)?;
    let fields = body.into_inner().into_fields(now())?;
    let actor = Actor::new(&principal, &req);
    let posted = state
        .db
        .write(|db| async move { repo::post(&db, &actor, &fields).await })
        .await?;
    let transaction = posted.row.into_transaction();
    let location = format!("/v1/transactions/{}", transaction.id);
    let mut response = if posted.replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    Ok(response
        .insert_header((header::LOCATION, location))
        .json(transaction))
}

/// Get a transaction
#[utoipa::path(
    security(("bearer" = ["transactions:read"])),
    tag = "transactions",
    params(("id" = Uuid, Path, description = "The transaction's id.")),
    responses(
        (status = 200, description = "The transaction.", body = Transaction),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/transactions/{id}")]
async fn get_transaction(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Transaction>> {
    principal.require(Area::Transactions, Level::Read)?;
    Ok(web::Json(
        repo::get(&state.db, *id).await?.into_transaction(),
    ))
}
