//! Export of a filtered contact list as CSV or NDJSON, streamed page by page
//! so memory stays flat however many contacts match.

use actix_web::{HttpResponse, get, http::header, web};
use chrono::{DateTime, Utc};
use futures_util::stream;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
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
    domain::csv_cell,
    domain::stages::{LifecycleStage, SizeSegment, ValueTier},
    http::{
        ApiResult,
        pagination::{KeysetCursor, Sort},
        responses::*,
    },
    state::AppState,
};

const EXPORT_BATCH: i64 = 500;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Ndjson,
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
    let (content_type, filename) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "contacts.csv"),
        ExportFormat::Ndjson => ("application/x-ndjson", "contacts.ndjson"),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(export.stream()))
}

struct Export {
    db: Db,
    query: ContactQuery,
    sort: Sort,
    mask: bool,
    format: ExportFormat,
}

impl Export {
    /// One chunk per page of 500, fetched only when the client has taken the previous one.
    fn stream(self) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> {
        struct Cursor {
            export: Export,
            next: Option<KeysetCursor>,
            first: bool,
            done: bool,
        }
        let start = Cursor {
            export: self,
            next: None,
            first: true,
            done: false,
        };
        stream::unfold(start, |mut st| async move {
            if st.done {
                return None;
            }
            let rows = match repo::list(
                &st.export.db,
                &st.export.query,
                &st.export.sort,
                st.next.take(),
                EXPORT_BATCH,
            )
            .await
            {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::error!(%err, "export failed mid-stream");
                    return Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        Cursor { done: true, ..st },
                    ));
                }
            };
            let more = rows.len() as i64 > EXPORT_BATCH;
            let rows: Vec<ContactRow> = rows.into_iter().take(EXPORT_BATCH as usize).collect();
            st.next = if more {
                rows.last().map(|r| sort_key(&st.export.sort, r))
            } else {
                None
            };
            let chunk = st.export.render(&rows, st.first);
            st.first = false;
            st.done = !more;
            Some((Ok(web::Bytes::from(chunk)), st))
        })
    }

    fn render(&self, rows: &[ContactRow], header: bool) -> Vec<u8> {
        let contacts = rows
            .iter()
            .map(|r| r.clone().into_contact().masked(self.mask));
        match self.format {
            ExportFormat::Ndjson => {
                let mut out = Vec::new();
                for c in contacts {
                    serde_json::to_writer(&mut out, &c).expect("contacts serialize");
                    out.push(b'\n');
                }
                out
            }
            ExportFormat::Csv => {
                let mut writer = csv::Writer::from_writer(Vec::new());
                if header {
                    writer
                        .write_record(csv_header())
                        .expect("writing to memory");
                }
                let text = |v: &Option<String>| v.clone().unwrap_or_default();
                let id = |v: &Option<Uuid>| v.map(|v| v.to_string()).unwrap_or_default();
                for c in contacts {
                    let record = [
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
                    ];
                    writer
                        .write_record(record.map(csv_cell::neutralise))
                        .expect("writing to memory");
                }
                writer.into_inner().expect("flushing memory")
            }
        }
    }
}
