use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    model::{Account, AccountIn},
    patch::AccountPatch,
    repo::{self, AccountQuery, SORTS},
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    db::Db,
    domain::{
        CurrencyCode,
        stages::{LifecycleStage, SizeSegment, ValueTier},
    },
    http::{
        ApiError, ApiResult, Page, PageParams, created,
        etag::expected_version,
        ok_versioned,
        pagination::{Sort, page_from},
        patch::patched,
        responses::*,
    },
    insights::{
        filter::InsightFilter,
        model::{LoyaltyStatus, NpsClass, RfmSegment},
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_accounts)
        .service(create_account)
        .service(get_account)
        .service(update_account)
        .service(delete_account);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountListParams {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `created_at` (default), `updated_at`, `name`, `last_purchase_at`, `lifetime_revenue` or `churn_risk`; prefix
    /// with `-` for descending. Accounts without a value (never purchased, no churn risk) come last when sorting by
    /// `last_purchase_at` or `churn_risk`; `lifetime_revenue` needs `revenue_currency`.
    pub sort: Option<String>,
    pub owner_id: Option<Uuid>,
    pub tag: Option<String>,
    pub value_tier: Option<ValueTier>,
    pub size_segment: Option<SizeSegment>,
    pub key_account: Option<bool>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Only accounts changed at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub updated_since: Option<DateTime<Utc>>,
    /// Only accounts whose last purchase was before this time (RFC 3339); accounts that never purchased are
    /// left out.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub last_purchase_before: Option<DateTime<Utc>>,
    /// Only accounts whose last purchase was at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub last_purchase_after: Option<DateTime<Utc>>,
    /// Only accounts whose last interaction was before this time (RFC 3339); accounts with no interaction are
    /// left out.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub last_interaction_before: Option<DateTime<Utc>>,
    /// ISO 4217: only accounts with purchases or refunds in this currency; `sort=lifetime_revenue` orders them by
    /// their net revenue in it.
    pub revenue_currency: Option<String>,
    /// Matches the start of the name or of the domain, case-insensitively.
    pub q: Option<String>,
    /// Adds `total`, the number of accounts matching the filters.
    pub include_total: Option<bool>,
    /// Only customers with this loyalty status (see the `insights` operations).
    pub loyalty_status: Option<LoyaltyStatus>,
    /// Only customers in this RFM segment.
    pub rfm_segment: Option<RfmSegment>,
    /// Only customers whose latest NPS answer is of this class.
    pub nps_class: Option<NpsClass>,
    /// Only customers with a churn risk of at least this (0–100).
    pub churn_risk_gte: Option<i64>,
}

impl AccountListParams {
    /// The filters, checked: the one way from the list's parameters (a query
    /// string, or a segment's `filter`) to an [`AccountQuery`].
    pub fn query(&self) -> Result<AccountQuery, ApiError> {
        let revenue_currency = self
            .revenue_currency
            .as_deref()
            .map(|c| {
                CurrencyCode::parse(c)
                    .map_err(|e| ApiError::bad_parameter("revenue_currency", c, e.code, &e.message))
            })
            .transpose()?
            .map(|c| c.as_str().to_string());
        Ok(AccountQuery {
            owner_id: self.owner_id,
            tag: self.tag.clone(),
            value_tier: self.value_tier.map(|v| v.as_str().to_string()),
            size_segment: self.size_segment.map(|v| v.as_str().to_string()),
            key_account: self.key_account,
            country: self.country.clone(),
            lifecycle_stage: self.lifecycle_stage.map(|v| v.as_str().to_string()),
            updated_since: self.updated_since,
            last_purchase_before: self.last_purchase_before,
            last_purchase_after: self.last_purchase_after,
            last_interaction_before: self.last_interaction_before,
            revenue_currency,
            q: self.q.clone(),
            insight: InsightFilter::new(
                self.loyalty_status,
                self.rfm_segment,
                self.nps_class,
                self.churn_risk_gte,
            )?,
        })
    }
}

/// One page of the accounts `query` matches, as `p` pages and sorts it: the
/// list's, and a segment's members.
pub async fn account_page(
    db: &Db,
    p: &AccountListParams,
    query: &AccountQuery,
) -> ApiResult<Page<Account>> {
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor.clone(),
    };
    let limit = page.limit()?;
    let sort = Sort::parse(p.sort.as_deref(), &SORTS, "created_at")?;
    repo::check_sort(&sort, query)?;
    let rows = repo::list(db, query, &sort, page.cursor()?, limit).await?;
    let mut result = page_from(
        rows,
        limit,
        |r| repo::sort_key(&sort, query, r),
        |r| r.into_account(),
    );
    if p.include_total == Some(true) {
        result.total = Some(repo::count(db, query).await?);
    }
    Ok(result)
}

/// List accounts
///
/// Keyset-paginated: follow `next_cursor` until it is null; every page costs the same.
#[utoipa::path(
    security(("bearer" = ["accounts:read"])),
    tag = "accounts",
    params(AccountListParams),
    responses(
        (status = 200, description = "A page of accounts.", body = Page<Account>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/accounts")]
async fn list_accounts(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<AccountListParams>,
) -> ApiResult<web::Json<Page<Account>>> {
    principal.require(Area::Accounts, Level::Read)?;
    let query = params.query()?;
    Ok(web::Json(account_page(&state.db, &params, &query).await?))
}

/// Create an account
#[utoipa::path(
    security(("bearer" = ["accounts:write"])),
    tag = "accounts",
    request_body = AccountIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The account was created.", body = Account, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/accounts")]
async fn create_account(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<AccountIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Accounts, Level::Write)?;
    let fields = body.into_inner().into_fields()?;
    let actor = Actor::new(&principal, &req);
    let account = state
        .db
        .write(|db| async move { repo::create(&db, &actor, fields).await })
        .await?
        .into_account();
    Ok(created(
        format!("/v1/accounts/{}", account.id),
        Some(account.version),
        account,
    ))
}

/// Get an account
#[utoipa::path(
    security(("bearer" = ["accounts:read"])),
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id.")),
    responses(
        (status = 200, description = "The account.", body = Account, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/accounts/{id}")]
async fn get_account(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Accounts, Level::Read)?;
    let account = repo::get(&state.db, *id).await?.into_account();
    Ok(ok_versioned(account.version, account))
}

/// Update an account
///
/// A JSON merge patch: send only the fields to change; `null` clears a field.
/// With `If-Match`, the change applies only if the account is still at that version (else 412).
#[utoipa::path(
    security(("bearer" = ["accounts:write"])),
    tag = "accounts",
    request_body(content = AccountPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The account's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 200, description = "The updated account.", body = Account, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/accounts/{id}")]
async fn update_account(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<AccountPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Accounts, Level::Write)?;
    let before = repo::get(&state.db, *id).await?;
    let expected = expected_version(&req)?.unwrap_or(before.version);
    let fields = patched(before.to_input(), body.into_inner())?.into_fields()?;
    let actor = Actor::new(&principal, &req);
    let account = state
        .db
        .write(|db| async move { repo::update(&db, &actor, &before, expected, fields).await })
        .await?
        .into_account();
    Ok(ok_versioned(account.version, account))
}

/// Delete an account
///
/// Refused with 409 while the account has contacts, and for an account with engagements or transactions (its
/// history).
#[utoipa::path(
    security(("bearer" = ["accounts:manage"])),
    tag = "accounts",
    params(
        ("id" = Uuid, Path, description = "The account's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The account was deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/accounts/{id}")]
async fn delete_account(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Accounts, Level::Manage)?;
    let actor = Actor::new(&principal, &req);
    let (id, expected) = (*id, expected_version(&req)?);
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
