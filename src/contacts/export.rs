//! Export of a filtered contact list as CSV or NDJSON, streamed page by page
//! so memory stays flat however many contacts match.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::import_rows::csv_header;
use super::{
    model::ContactRow,
    repo::{self, ContactQuery, SORTS, sort_key},
    routes::contact_query,
};
use crate::{
    auth::{Area, Level, Principal},
    db::Db,
    domain::stages::{LifecycleStage, SizeSegment, ValueTier},
    http::{
        ApiError, ApiResult,
        export::{self, Pages},
        pagination::{KeysetCursor, Sort},
        responses::*,
    },
    state::AppState,
};

pub use crate::http::export::ExportFormat;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export_contacts);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` (default) or `ndjson` (one JSON contact per line).
    pub format: Option<ExportFormat>,
    /// `created_at` (default), `updated_at` or `name`; prefix with `-` for descending.
    pub sort: Option<String>,
    pub account_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub tag: Option<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub value_tier: Option<ValueTier>,
    pub size_segment: Option<SizeSegment>,
    pub key_account: Option<bool>,
    pub country: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub updated_since: Option<DateTime<Utc>>,
    /// As for the list: names or emails, names only for viewers.
    pub q: Option<String>,
}

/// Export contacts
///
/// Every contact matching the filters (the same as the list's), streamed as CSV or NDJSON.
/// Viewers get masked emails and phones. The CSV can be imported back unchanged.
/// Cells that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return) are written with a leading `'`, which the import removes again.
#[utoipa::path(
    security(("bearer" = ["contacts:read"])),
    tag = "contacts",
    params(ExportParams),
    responses(
        (status = 200, description = "The contacts.", content(
            (String = "text/csv", example = json!("id,first_name,last_name,email,phone,title,account_id,language,time_zone,birthday,country,lifecycle_stage,owner_id,tags,custom_fields,created_at,updated_at\n")),
            (String = "application/x-ndjson")
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/contacts/export")]
async fn export_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ExportParams>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Contacts, Level::Read)?;
    let p = params.into_inner();
    let sort = Sort::parse(p.sort.as_deref(), &SORTS, "created_at")?;
    let mut query = contact_query(
        p.account_id,
        p.owner_id,
        p.tag,
        p.lifecycle_stage,
        p.value_tier,
        p.size_segment,
        p.key_account,
        p.country,
        p.updated_since,
        p.q,
    );
    query.search_names_only = principal.masks_personal_data();
    let format = p.format.unwrap_or(ExportFormat::Csv);
    let export = Export {
        db: state.db.clone(),
        query,
        sort,
        mask: principal.masks_personal_data(),
        format,
    };
    Ok(export::attachment(format, "contacts", export))
}

/// The contacts a query matches, written as CSV or NDJSON: the export's, and
/// a contact segment's.
pub struct Export {
    pub db: Db,
    pub query: ContactQuery,
    pub sort: Sort,
    /// Emails and phones masked (viewers).
    pub mask: bool,
    pub format: ExportFormat,
}

impl Pages for Export {
    type Row = ContactRow;

    async fn page(
        &self,
        after: Option<KeysetCursor>,
        limit: i64,
    ) -> Result<Vec<ContactRow>, ApiError> {
        repo::list(&self.db, &self.query, &self.sort, after, limit).await
    }

    fn key(&self, row: &ContactRow) -> KeysetCursor {
        sort_key(&self.sort, row)
    }

    fn render(&self, rows: &[ContactRow], first: bool) -> Vec<u8> {
        let contacts = rows
            .iter()
            .map(|r| r.clone().into_contact().masked(self.mask));
        match self.format {
            ExportFormat::Ndjson => export::ndjson(contacts),
            ExportFormat::Csv => {
                let text = |v: &Option<String>| v.clone().unwrap_or_default();
                let id = |v: &Option<Uuid>| v.map(|v| v.to_string()).unwrap_or_default();
                let records = contacts.map(|c| {
                    [
                        c.id.to_string(),
                        text(&c.first_name),
                        text(&c.last_name),
                        text(&c.email),
                        text(&c.phone),
                        text(&c.title),
                        id(&c.account_id),
                        text(&c.language),
                        text(&c.time_zone),
                        text(&c.birthday),
                        text(&c.country),
                        c.lifecycle_stage.as_str().to_string(),
                        id(&c.owner_id),
                        c.tags.join(";"),
                        if c.custom_fields.is_empty() {
                            String::new()
                        } else {
                            Value::Object(c.custom_fields.clone()).to_string()
                        },
                        c.created_at.to_rfc3339(),
                        c.updated_at.to_rfc3339(),
                    ]
                });
                export::csv(first.then(csv_header), records)
            }
        }
    }
}
