//! Bulk import of contacts: a JSON array or a CSV file, upserted by email,
//! answered with a result per row.

use actix_web::{HttpRequest, HttpResponse, post, web};
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
    http::{
        ApiError, ApiResult, FieldError, Problem,
        import::{
            ImportMode, ImportParams, ImportReport, RowResult, RowStatus, read_rows, row_errors,
        },
        responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(import_contacts);
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
    let rows = read_rows(&req, payload, parse_csv, parse_json).await?;
    let mode = params.mode.unwrap_or(ImportMode::PerRow);
    let total = rows.len();
    let actor = Actor::new(&principal, &req);
    let report = state
        .db
        .write(|db| async move { run_import(&db, &actor, rows, mode).await })
        .await?;
    Ok(HttpResponse::Ok().json(report.into_result(total)?))
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
        let outcome = match parsed {
            Err(errors) => Err(errors),
            Ok((input, given)) => upsert(&mut tx, actor, input, &given).await?,
        };
        results.push(RowResult::of(index + 1, outcome));
    }
    let report = ImportReport::of(results, mode);
    if report.written {
        tx.commit().await?;
    }
    Ok(report)
}

/// One row: Ok(Ok((id, status))) when written, Ok(Err(errors)) when the row is invalid.
async fn upsert(
    tx: &mut Tx,
    actor: &Actor,
    input: ContactIn,
    given: &[&str],
) -> Result<Result<(Uuid, RowStatus), Vec<FieldError>>, ApiError> {
    let fields: ContactFields = match input.clone().check() {
        Ok(f) => f,
        Err(errors) => return Ok(Err(errors)),
    };
    if let Err(err) = repo::ensure_references(tx, &fields).await {
        return row_errors(err, "row").map(Err);
    }
    let existing = match &fields.email {
        Some(email) => repo::id_by_email(&mut *tx, email).await?,
        None => None,
    };
    let Some(existing_id) = existing else {
        let row = repo::insert(tx, &fields, now());
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
        return Ok(Ok((row.id, RowStatus::Created)));
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
    Ok(Ok((row.id, RowStatus::Updated)))
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
