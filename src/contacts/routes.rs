use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

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
    http::{
        ApiError, ApiResult, Page, PageParams, created,
        etag::expected_version,
        ok_versioned,
        pagination::{Sort, page_from},
        patch::patched,
        responses::*,
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

pub use super::list_params::{ContactListParams, contact_query};

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
    let actor = Actor::new(&principal, &req);
    let contact = state
        .db
        .write(|db| async move { repo::create(&db, &actor, fields).await })
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
    let actor = Actor::new(&principal, &req);
    let contact = state
        .db
        .write(|db| async move { repo::update(&db, &actor, &before, expected, fields).await })
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
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
