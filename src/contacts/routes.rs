use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    model::{Contact, ContactIn, ContactRow},
    patch::ContactPatch,
    repo::{self, ContactQuery, SORTS, sort_key},
};
use crate::{
    accounts::repo as accounts,
    audit::Actor,
    auth::{Area, Level, Principal},
    domain::stages::{LifecycleStage, SizeSegment, ValueTier},
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
    // The fixed paths (import, export) come before `/contacts/{id}`.
    cfg.configure(super::import::configure)
        .configure(super::export::configure)
        .service(list_contacts)
        .service(create_contact)
        .service(get_contact)
        .service(update_contact)
        .service(delete_contact)
        .service(list_account_contacts)
        .configure(super::privacy::configure);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContactListParams {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `created_at` (default), `updated_at`, `name` (family name first) or `churn_risk` (contacts without one
    /// last); prefix with `-` for descending.
    pub sort: Option<String>,
    /// Adds `total`, the number of contacts matching the filters.
    pub include_total: Option<bool>,
    /// `account` embeds each contact's account.
    pub expand: Option<String>,
    pub account_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub tag: Option<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    /// The value tier of the contact's account.
    pub value_tier: Option<ValueTier>,
    /// The size segment of the contact's account.
    pub size_segment: Option<SizeSegment>,
    /// Whether the contact's account is a key account.
    pub key_account: Option<bool>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Only contacts changed at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub updated_since: Option<DateTime<Utc>>,
    /// Matches the start of the name ("mei", "chen mei", "mei chen") or of the email, case-insensitively.
    /// For viewers, who see emails masked, it matches names only.
    pub q: Option<String>,
    /// Only customers with this loyalty status (see the `insights` operations).
    pub loyalty_status: Option<LoyaltyStatus>,
    /// Only customers in this RFM segment.
    pub rfm_segment: Option<RfmSegment>,
    /// Only customers whose latest NPS answer is of this class.
    pub nps_class: Option<NpsClass>,
    /// Only customers with a churn risk of at least this (0–100).
    pub churn_risk_gte: Option<i64>,
}

/// The contact filters of a list or export request.
#[allow(clippy::too_many_arguments)]
pub fn contact_query(
    account_id: Option<Uuid>,
    owner_id: Option<Uuid>,
    tag: Option<String>,
    lifecycle_stage: Option<LifecycleStage>,
    value_tier: Option<ValueTier>,
    size_segment: Option<SizeSegment>,
    key_account: Option<bool>,
    country: Option<String>,
    updated_since: Option<DateTime<Utc>>,
    q: Option<String>,
) -> ContactQuery {
    ContactQuery {
        account_id,
        owner_id,
        tag,
        lifecycle_stage: lifecycle_stage.map(|v| v.as_str().to_string()),
        value_tier: value_tier.map(|v| v.as_str().to_string()),
        size_segment: size_segment.map(|v| v.as_str().to_string()),
        key_account,
        country,
        updated_since,
        q: q.filter(|q| !q.trim().is_empty()),
        search_names_only: false,
        insight: InsightFilter::default(),
    }
}

impl ContactListParams {
    /// The filters, checked: the one way from the list's parameters (a query
    /// string, or a segment's `filter`) to a [`ContactQuery`].
    pub fn query(&self) -> Result<ContactQuery, ApiError> {
        let query = contact_query(
            self.account_id,
            self.owner_id,
            self.tag.clone(),
            self.lifecycle_stage,
            self.value_tier,
            self.size_segment,
            self.key_account,
            self.country.clone(),
            self.updated_since,
            self.q.clone(),
        );
        Ok(ContactQuery {
            insight: InsightFilter::new(
                self.loyalty_status,
                self.rfm_segment,
                self.nps_class,
                self.churn_risk_gte,
            )?,
            ..query
        })
    }
}

/// One page of the contacts `query` matches, as `params` pages, sorts and
/// expands it, masked for the caller: the list's, and a segment's members.
pub async fn contact_page(
    state: &AppState,
    principal: &Principal,
    params: ContactListParams,
    mut query: ContactQuery,
) -> ApiResult<Page<Contact>> {
    query.search_names_only = principal.masks_personal_data();
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    let limit = page.limit()?;
    let sort = Sort::parse(params.sort.as_deref(), &SORTS, "created_at")?;
    let expand = match params.expand.as_deref() {
        None | Some("") => false,
        Some("account") => {
            // The accounts are another area's data.
            principal.require(Area::Accounts, Level::Read)?;
            true
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "expand={other} is not supported: use expand=account."
            )));
        }
    };
    let rows = repo::list(&state.db, &query, &sort, page.cursor()?, limit).await?;
    let mask = principal.masks_personal_data();
    let mut result = page_from(
        rows,
        limit,
        |r| sort_key(&sort, r),
        |r: ContactRow| r.into_contact().masked(mask),
    );
    if expand {
        let ids: Vec<Uuid> = result.data.iter().filter_map(|c| c.account_id).collect();
        let found = accounts::by_ids(&state.db, &ids).await?;
        for contact in &mut result.data {
            contact.account = found
                .iter()
                .find(|a| Some(a.id) == contact.account_id)
                .map(|a| Box::new(a.clone().into_account()));
        }
    }
    if params.include_total == Some(true) {
        result.total = Some(repo::count(&state.db, &query).await?);
    }
    Ok(result)
}

/// List contacts
///
/// Keyset-paginated: follow `next_cursor` until it is null; page 1,000 costs what page 1 costs.
/// Viewers see emails and phones masked.
#[utoipa::path(
    security(("bearer" = ["contacts:read"])),
    tag = "contacts",
    params(ContactListParams),
    responses(
        (status = 200, description = "A page of contacts.", body = Page<Contact>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/contacts")]
async fn list_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ContactListParams>,
) -> ApiResult<web::Json<Page<Contact>>> {
    principal.require(Area::Contacts, Level::Read)?;
    let params = params.into_inner();
    let query = params.query()?;
    Ok(web::Json(
        contact_page(&state, &principal, params, query).await?,
    ))
}

/// List an account's contacts
#[utoipa::path(
    security(("bearer" = ["contacts:read"])),
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id."), ContactListParams),
    responses(
        (status = 200, description = "A page of the account's contacts.", body = Page<Contact>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/accounts/{id}/contacts")]
async fn list_account_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    params: web::Query<ContactListParams>,
) -> ApiResult<web::Json<Page<Contact>>> {
    principal.require(Area::Contacts, Level::Read)?;
    accounts::get(&state.db, *id).await?;
    let params = params.into_inner();
    let query = ContactQuery {
        account_id: Some(*id),
        ..params.query()?
    };
    Ok(web::Json(
        contact_page(&state, &principal, params, query).await?,
    ))
}

/// Create a contact
///
/// A second live contact with the same email is refused with 409; the problem's `existing_id` names the first.
#[utoipa::path(
    security(("bearer" = ["contacts:write"])),
    tag = "contacts",
    request_body = ContactIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The contact was created.", body = Contact, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/contacts")]
async fn create_contact(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<ContactIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Contacts, Level::Write)?;
    let fields = body.into_inner().into_fields()?;
    let contact = repo::create(&state.db, &Actor::new(&principal, &req), fields)
        .await?
        .into_contact();
    Ok(created(
        format!("/v1/contacts/{}", contact.id),
        Some(contact.version),
        contact,
    ))
}

/// Get a contact
#[utoipa::path(
    security(("bearer" = ["contacts:read"])),
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id.")),
    responses(
        (status = 200, description = "The contact.", body = Contact, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/contacts/{id}")]
async fn get_contact(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Contacts, Level::Read)?;
    let contact = repo::get(&state.db, *id)
        .await?
        .into_contact()
        .masked(principal.masks_personal_data());
    Ok(ok_versioned(contact.version, contact))
}

/// Update a contact
///
/// A JSON merge patch: send only the fields to change; `null` clears a field.
/// With `If-Match`, the change applies only if the contact is still at that version (else 412).
#[utoipa::path(
    security(("bearer" = ["contacts:write"])),
    tag = "contacts",
    request_body(content = ContactPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The contact's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 200, description = "The updated contact.", body = Contact, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/contacts/{id}")]
async fn update_contact(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<ContactPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Contacts, Level::Write)?;
    let before = repo::get(&state.db, *id).await?;
    if before.erased_at.is_some() {
        return Err(ApiError::conflict(
            "The contact's personal data was erased; it cannot be edited.",
        ));
    }
    let expected = expected_version(&req)?.unwrap_or(before.version);
    let fields = patched(before.to_input(), body.into_inner())?.into_fields()?;
    let contact = repo::update(
        &state.db,
        &Actor::new(&principal, &req),
        &before,
        expected,
        fields,
    )
    .await?
    .into_contact();
    Ok(ok_versioned(contact.version, contact))
}

/// Delete a contact
///
/// Admins and managers. The contact disappears from lists; its history (interactions, feedback, points) keeps its id.
#[utoipa::path(
    security(("bearer" = ["contacts:manage"])),
    tag = "contacts",
    params(
        ("id" = Uuid, Path, description = "The contact's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The contact was deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/contacts/{id}")]
async fn delete_contact(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Contacts, Level::Manage)?;
    repo::delete(
        &state.db,
        &Actor::new(&principal, &req),
        *id,
        expected_version(&req)?,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
