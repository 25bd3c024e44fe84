//! A segment's members and their export, read by the contacts' and accounts'
//! own list and export code: the same rows, representation and masking as
//! `GET /v1/contacts` or `GET /v1/accounts` with the segment's filter.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{filter::Members, repo};
use crate::{
    accounts::{self, model::Account, routes::account_page},
    auth::{Area, Level, Principal},
    contacts::{self, model::Contact, routes::contact_page},
    http::{
        ApiResult, Page,
        export::{self, ExportFormat},
        pagination::Sort,
        responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_segment_members)
        .service(export_segment_members);
}

/// The segment, its filter read, once the caller may read both.
async fn members_of(state: &AppState, principal: &Principal, id: Uuid) -> ApiResult<Members> {
    principal.require(Area::Segments, Level::Read)?;
    let row = repo::get(&state.db, id).await?;
    let members = Members::stored(row.entity, &row.filter)?;
    // The members are the entity's records.
    principal.require(members.area(), Level::Read)?;
    Ok(members)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MembersParams {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// As the entity's list sorts: `created_at` (default), `updated_at` or `name`, and for accounts also
    /// `last_purchase_at` and `lifetime_revenue` (with `revenue_currency` in the filter); prefix with `-` for
    /// descending.
    pub sort: Option<String>,
    /// Adds `total`, the number of members.
    pub include_total: Option<bool>,
}

/// A page of a segment's members: contacts or accounts, as their list returns them.
#[derive(Serialize)]
#[serde(untagged)]
pub enum MembersPage {
    Contacts(Page<Contact>),
    Accounts(Page<Account>),
}

// `anyOf`, not the `oneOf` a derived untagged enum gives: an empty page is
// both a page of contacts and a page of accounts.
impl utoipa::PartialSchema for MembersPage {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{Ref, schema::AnyOfBuilder};
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("Page_Contact"))
            .item(Ref::from_schema_name("Page_Account"))
            .description(Some(
                "A page of a segment's members: contacts or accounts (the segment's `entity`), as their list \
                 returns them.",
            ))
            .into()
    }
}

impl ToSchema for MembersPage {}

/// List a segment's members
///
/// The contacts or accounts that match the segment's filter now: exactly the rows, fields and masking (viewers
/// see emails and phones masked) of `GET /v1/contacts` or `GET /v1/accounts` with the filter as its query
/// parameters, keyset-paginated the same way. Needs read access to the segment's entity too (`contacts:read` or
/// `accounts:read`). A stored filter the list no longer accepts is a 409 whose `errors` say what to fix.
#[utoipa::path(
    security(("bearer" = ["segments:read", "contacts:read"]), ("bearer" = ["segments:read", "accounts:read"])),
    tag = "segments",
    params(("id" = Uuid, Path, description = "The segment's id."), MembersParams),
    responses(
        (status = 200, description = "A page of members.", body = MembersPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
#[get("/segments/{id}/members")]
async fn list_segment_members(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    params: web::Query<MembersParams>,
) -> ApiResult<web::Json<MembersPage>> {
    let p = params.into_inner();
    Ok(web::Json(
        match members_of(&state, &principal, *id).await? {
            Members::Contacts { mut params, query } => {
                (params.limit, params.cursor, params.sort) = (p.limit, p.cursor, p.sort);
                params.include_total = p.include_total;
                MembersPage::Contacts(contact_page(&state, &principal, params, query).await?)
            }
            Members::Accounts { mut params, query } => {
                (params.limit, params.cursor, params.sort) = (p.limit, p.cursor, p.sort);
                params.include_total = p.include_total;
                MembersPage::Accounts(account_page(&state.db, &params, &query).await?)
            }
        },
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` (default) or `ndjson` (one JSON record per line, as the list shows it).
    pub format: Option<ExportFormat>,
    /// As for the members.
    pub sort: Option<String>,
}

/// Export a segment's members
///
/// Every member, streamed as CSV or NDJSON in pages of 500 read as the download proceeds, so there is no limit on
/// the number of members and the server holds one page at a time. Contacts come in the columns of
/// `GET /v1/contacts/export` (the CSV imports back unchanged) and masked for viewers; accounts in the columns `id,
/// name, domain, industry, country, region, employee_count, annual_revenue, currency, size_segment, value_tier,
/// lifecycle_stage, key_account, owner_id, tags, custom_fields, purchase_count, lifetime_revenue, last_purchase_at,
/// last_interaction_at, created_at, updated_at`. Cells a spreadsheet would read as a formula (starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return) are written with a leading `'`. Needs read access to the segment's
/// entity too.
#[utoipa::path(
    security(("bearer" = ["segments:read", "contacts:read"]), ("bearer" = ["segments:read", "accounts:read"])),
    tag = "segments",
    params(("id" = Uuid, Path, description = "The segment's id."), ExportParams),
    responses(
        (status = 200, description = "The members.", content(
            (String = "text/csv", example = json!("id,name,domain,industry,country,region,employee_count,annual_revenue,currency,size_segment,value_tier,lifecycle_stage,key_account,owner_id,tags,custom_fields,purchase_count,lifetime_revenue,last_purchase_at,last_interaction_at,created_at,updated_at\n")),
            (String = "application/x-ndjson")
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
#[get("/segments/{id}/export")]
async fn export_segment_members(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    params: web::Query<ExportParams>,
) -> ApiResult<HttpResponse> {
    let p = params.into_inner();
    let format = p.format.unwrap_or(ExportFormat::Csv);
    let name = format!("segment-{id}");
    Ok(match members_of(&state, &principal, *id).await? {
        Members::Contacts { query, .. } => {
            let sort = Sort::parse(p.sort.as_deref(), &contacts::repo::SORTS, "created_at")?;
            let mask = principal.masks_personal_data();
            let query = contacts::repo::ContactQuery {
                search_names_only: mask,
                ..query
            };
            let db = state.db.clone();
            let pages = contacts::export::Export {
                db,
                query,
                sort,
                mask,
                format,
            };
            export::attachment(format, &name, pages)
        }
        Members::Accounts { query, .. } => {
            let sort = Sort::parse(p.sort.as_deref(), &accounts::repo::SORTS, "created_at")?;
            accounts::repo::check_sort(&sort, &query)?;
            let db = state.db.clone();
            let pages = accounts::export::Export {
                db,
                query,
                sort,
                format,
            };
            export::attachment(format, &name, pages)
        }
    })
}
