//! Bulk imports (`POST /v1/contacts/import`, `POST /v1/transactions/import`):
//! a JSON array or a CSV file, checked row by row and answered with a result
//! per row, in one database transaction.

use actix_web::{HttpRequest, http::header, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ApiError, FieldError};

/// The most rows one import takes.
pub const MAX_ROWS: usize = 10_000;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Created,
    Updated,
    /// Already stored exactly so (a transaction posted again with its `external_id`): nothing written.
    Unchanged,
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

impl RowResult {
    /// The result of a row that was written (`Ok`) or refused (`Err`).
    pub fn of(row: usize, outcome: Result<(Uuid, RowStatus), Vec<FieldError>>) -> Self {
        match outcome {
            Ok((id, status)) => RowResult {
                row,
                status,
                id: Some(id),
                errors: vec![],
            },
            Err(errors) => RowResult {
                row,
                status: RowStatus::Error,
                id: None,
                errors,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "created": 1, "updated": 1, "unchanged": 0, "failed": 1, "written": true,
    "rows": [
        {"row": 1, "status": "created", "id": "01937c62-0000-7000-8000-0000000000c1"},
        {"row": 2, "status": "updated", "id": "01937c62-0000-7000-8000-0000000000c2"},
        {"row": 3, "status": "error", "errors": [{"field": "email", "code": "invalid_email", "message": "must be an email address such as ana@example.com"}]}
    ]
}))]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// False when `all_or_nothing` refused the whole import.
    pub written: bool,
    pub rows: Vec<RowResult>,
}

impl ImportReport {
    /// The report of rows checked in `mode`; `written` is false (and the
    /// caller rolls back) when `all_or_nothing` met a failed row.
    pub fn of(mut rows: Vec<RowResult>, mode: ImportMode) -> Self {
        let count = |rows: &[RowResult], status| rows.iter().filter(|r| r.status == status).count();
        let failed = count(&rows, RowStatus::Error);
        let written = !(mode == ImportMode::AllOrNothing && failed > 0);
        if !written {
            for r in rows.iter_mut().filter(|r| r.status != RowStatus::Error) {
                r.status = RowStatus::Skipped;
                r.id = None;
            }
        }
        ImportReport {
            created: count(&rows, RowStatus::Created),
            updated: count(&rows, RowStatus::Updated),
            unchanged: count(&rows, RowStatus::Unchanged),
            failed,
            written,
            rows,
        }
    }

    /// The answer: the report, or the 422 of a refused `all_or_nothing`.
    pub fn into_result(self, total: usize) -> Result<Self, ApiError> {
        if self.written {
            return Ok(self);
        }
        Err(ApiError::unprocessable(format!(
            "{} of {total} rows are not valid, so nothing was written (mode=all_or_nothing); see `rows`.",
            self.failed
        ))
        .with("failed", self.failed)
        .with("rows", &self.rows))
    }
}

/// How a module reads the rows of one format.
pub type ParseRows<T> = fn(&[u8]) -> Result<Vec<T>, ApiError>;

/// An import's rows: the body read (up to the largest body the server
/// takes), parsed by its content type, and counted.
pub async fn read_rows<T>(
    req: &HttpRequest,
    payload: web::Payload,
    csv: ParseRows<T>,
    json: ParseRows<T>,
) -> Result<Vec<T>, ApiError> {
    let body = super::body::read_limited(payload, super::body::LARGEST_BODY).await?;
    // Bodies over the JSON limit pass the NUL middleware unread (see http::nul).
    if let Some(err) = super::nul::nul_in_body(&body) {
        return Err(err);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let rows = if content_type.starts_with("text/csv") {
        csv(&body)?
    } else if content_type.starts_with("application/json") {
        json(&body)?
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
    Ok(rows)
}

/// A row's refusal as its field errors: a 422's fields, or the detail of
/// another refusal (a 409) under `field`.
pub fn row_errors(err: ApiError, field: &str) -> Result<Vec<FieldError>, ApiError> {
    match err {
        ApiError::Problem { errors, .. } if !errors.is_empty() => Ok(errors),
        ApiError::Problem { status, detail, .. } if status.as_u16() == 409 => {
            Ok(vec![FieldError::new(field, "conflict", detail)])
        }
        other => Err(other),
    }
}
