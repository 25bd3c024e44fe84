//! Bulk import of contacts: a JSON array or a CSV file, upserted by email,
//! answered with a result per row.

use actix_web::{HttpRequest, HttpResponse, http::header, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::events::{CREATED, UPDATED};
use super::{
    import_rows::{overlay, parse_csv, parse_json},
    model::{ContactFields, ContactIn, ContactRow},
    repo,
};
use crate::{
    audit::{self, Actor, Change},
    auth::{Area, Level, Principal},
    db::{Db, Tx, now},
    events,
    http::{ApiError, ApiResult, FieldError, Problem, responses::*},
    state::AppState,
};

pub const MAX_ROWS: usize = 10_000;
const MAX_BODY: usize = crate::http::body::LARGEST_BODY;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(import_contacts);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// `per_row` (default): valid rows are written, invalid ones reported.
    /// `all_or_nothing`: nothing is written when any row fails (answered with 422).
    pub mode: Option<ImportMode>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    PerRow,
    AllOrNothing,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Created,
    Updated,
    Error,
    /// Valid, but not written because another row failed (`all_or_nothing`).
    Skipped,
}

/// The outcome of one row; rows are numbered from 1 (the CSV header is not a row).
#[derive(Debug, Serialize, ToSchema)]
pub struct RowResult {
    pub row: usize,
    pub status: RowStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "created": 1, "updated": 1, "failed": 1, "written": true,
    "rows": [
        {"row": 1, "status": "created", "id": "01937c62-0000-7000-8000-0000000000c1"},
        {"row": 2, "status": "updated", "id": "01937c62-0000-7000-8000-0000000000c2"},
        {"row": 3, "status": "error", "errors": [{"field": "email", "code": "invalid_email", "message": "must be an email address such as ana@example.com"}]}
    ]
}))]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub failed: usize,
    /// False when `all_or_nothing` refused the whole import.
    pub written: bool,
    pub rows: Vec<RowResult>,
}

/// Import contacts
///
/// Admins and managers. Send a JSON array of contacts (`Content-Type: application/json`) or a CSV
/// file (`text/csv`) with a header row naming ContactIn fields (`tags` separated by `;`,
/// `custom_fields` as a JSON object; the export's read-only columns `id`, `created_at`,
/// `updated_at` are ignored). Up to 10,000 rows. Rows are upserted by email: a row whose email
/// matches a live contact updates the fields it gives; any other row creates a contact.
#[utoipa::path(
    security(("bearer" = ["contacts:manage"])),
    tag = "contacts",
    params(ImportParams, ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe.")),
    request_body(
        description = "The rows: a JSON array of objects with the fields of ContactIn, or CSV with those fields as \
columns. Each row is checked on its own and reported in `rows` (with `mode=per_row` the valid ones are written), \
so a row is any object here, not a ContactIn the whole request stands or falls by.",
        content(
            (Vec<Object> = "application/json", example = json!([{"first_name": "Mei", "last_name": "Chen", "email": "mei.chen@acme.example"}])),
            (String = "text/csv", example = json!("first_name,last_name,email,tags\nMei,Chen,mei.chen@acme.example,vip;apac\n"))
        )
    ),
    responses(
        (status = 200, description = "Per-row results.", body = ImportReport),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "`all_or_nothing` and some rows failed: nothing was written. A problem+json whose `rows` member lists every row's result.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contacts/import")]
async fn import_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    params: web::Query<ImportParams>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Contacts, Level::Manage)?;
    let body = crate::http::body::read_limited(payload, MAX_BODY).await?;
    // Bodies over the JSON limit pass the NUL middleware unread (see http::nul).
    if let Some(err) = crate::http::nul::nul_in_body(&body) {
        return Err(err);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let rows = if content_type.starts_with("text/csv") {
        parse_csv(&body)?
    } else if content_type.starts_with("application/json") {
        parse_json(&body)?
    } else {
        return Err(ApiError::unsupported_media_type(
            "Send the import as application/json (an array) or text/csv.",
        ));
    };
    if rows.len() > MAX_ROWS {
        return Err(ApiError::payload_too_large(format!(
            "The import has {} rows; the limit is {MAX_ROWS}. Split it into several requests.",
            rows.len()
        )));
    }
    let mode = params.mode.unwrap_or(ImportMode::PerRow);
    let total = rows.len();
    let report = run_import(&state.db, &Actor::new(&principal, &req), rows, mode).await?;
    if !report.written {
        return Err(ApiError::unprocessable(format!(
            "{} of {total} rows are not valid, so nothing was written (mode=all_or_nothing); see `rows`.",
            report.failed
        ))
        .with("failed", report.failed)
        .with("rows", &report.rows));
    }
    Ok(HttpResponse::Ok().json(report))
}

/// A parsed row: the input, or why it could not even be read.
pub(super) type ParsedRow = Result<(ContactIn, Vec<&'static str>), Vec<FieldError>>;

async fn run_import(
    db: &Db,
    actor: &Actor,
    rows: Vec<ParsedRow>,
    mode: ImportMode,
) -> Result<ImportReport, ApiError> {
    let mut tx = db.begin().await?;
    let mut results = Vec::with_capacity(rows.len());
    for (index, parsed) in rows.into_iter().enumerate() {
        let row = index + 1;
        let outcome = match parsed {
            Err(errors) => Err(errors),
            Ok((input, given)) => upsert(&mut tx, actor, input, &given).await?,
        };
        results.push(match outcome {
            Ok((id, created)) => RowResult {
                row,
                status: if created {
                    RowStatus::Created
                } else {
                    RowStatus::Updated
                },
                id: Some(id),
                errors: vec![],
            },
            Err(errors) => RowResult {
                row,
                status: RowStatus::Error,
                id: None,
                errors,
            },
        });
    }
    let failed = results
        .iter()
        .filter(|r| matches!(r.status, RowStatus::Error))
        .count();
    if mode == ImportMode::AllOrNothing && failed > 0 {
        drop(tx);
        for r in &mut results {
            if !matches!(r.status, RowStatus::Error) {
                r.status = RowStatus::Skipped;
                r.id = None;
            }
        }
        return Ok(ImportReport {
            created: 0,
            updated: 0,
            failed,
            written: false,
            rows: results,
        });
    }
    tx.commit().await?;
    let created = results
        .iter()
        .filter(|r| matches!(r.status, RowStatus::Created))
        .count();
    let updated = results
        .iter()
        .filter(|r| matches!(r.status, RowStatus::Updated))
        .count();
    Ok(ImportReport {
        created,
        updated,
        failed,
        written: true,
        rows: results,
    })
}

/// One row: Ok(Ok((id, created))) when written, Ok(Err(errors)) when the row is invalid.
async fn upsert(
    tx: &mut Tx,
    actor: &Actor,
    input: ContactIn,
    given: &[&str],
) -> Result<Result<(Uuid, bool), Vec<FieldError>>, ApiError> {
    let fields: ContactFields = match input.clone().check() {
        Ok(f) => f,
        Err(errors) => return Ok(Err(errors)),
    };
    if let Err(err) = repo::ensure_references(tx, &fields).await {
        return match err {
            ApiError::Problem { errors, .. } if !errors.is_empty() => Ok(Err(errors)),
            other => Err(other),
        };
    }
    let existing = match &fields.email {
        Some(email) => repo::id_by_email(&mut *tx, email).await?,
        None => None,
    };
    let Some(existing_id) = existing else {
        let row = repo::insert(tx, &fields, now()).await?;
        crate::db::refs::replace_tags(tx, crate::db::refs::TagTable::Contact, row.id, &fields.tags)
            .await?;
        let contact = row.clone().into_contact();
        audit::record(
            tx,
            actor,
            "import",
            "contact",
            row.id,
            Change::created(&contact),
        )
        .await?;
        events::record(tx, actor, &CREATED, Some(row.id), &contact).await?;
        return Ok(Ok((row.id, true)));
    };
    let before: ContactRow = repo::get(&mut *tx, existing_id).await?;
    let merged = match overlay(before.to_input(), input, given).check() {
        Ok(f) => f,
        Err(errors) => return Ok(Err(errors)),
    };
    let row = repo::update_row(tx, existing_id, before.version, &merged)
        .await?
        .ok_or_else(|| ApiError::conflict("A contact changed during the import; retry it."))?;
    crate::db::refs::replace_tags(tx, crate::db::refs::TagTable::Contact, row.id, &merged.tags)
        .await?;
    let contact = row.clone().into_contact();
    let change = Change::diff(&before.into_contact(), &contact);
    audit::record(tx, actor, "import", "contact", row.id, change).await?;
    events::record(tx, actor, &UPDATED, Some(row.id), &contact).await?;
    Ok(Ok((row.id, false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_contact_inputs() {
        let rows = parse_csv(b"first_name,last_name,email,tags,id\nMei,Chen,mei@acme.example,vip; apac,ignored\n,,,,\n").unwrap();
        let (input, given) = rows[0].as_ref().unwrap();
        assert_eq!(input.email.as_deref(), Some("mei@acme.example"));
        assert_eq!(
            input.tags.as_ref().unwrap(),
            &vec!["vip".to_string(), "apac".to_string()]
        );
        assert_eq!(given, &vec!["first_name", "last_name", "email", "tags"]);
        assert!(rows[1].as_ref().unwrap().0.first_name.is_none());
    }

    #[test]
    fn unknown_csv_columns_are_refused() {
        assert!(parse_csv(b"first_name,emial\nA,a@b.example\n").is_err());
    }

    #[test]
    fn an_import_update_keeps_fields_the_row_does_not_give() {
        let existing = ContactIn {
            first_name: Some("Mei".into()),
            title: Some("CTO".into()),
            ..Default::default()
        };
        let row = ContactIn {
            title: Some("CEO".into()),
            ..Default::default()
        };
        let merged = overlay(existing, row, &["title"]);
        assert_eq!(merged.first_name.as_deref(), Some("Mei"));
        assert_eq!(merged.title.as_deref(), Some("CEO"));
    }
}
