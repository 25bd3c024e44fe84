//! `POST /v1/transactions/import`: a billing system's batch, as a JSON array
//! or a CSV file, each row recorded as `POST /v1/transactions` records it
//! (idempotent per `external_id`), answered with a result per row.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde_json::{Map, Value};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{model::TransactionIn, repo};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    db::{Db, now},
    domain::csv_cell,
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
    cfg.service(import_transactions);
}

const CSV_FIELDS: [&str; 10] = [
    "kind",
    "account_id",
    "contact_id",
    "engagement_id",
    "amount",
    "currency",
    "occurred_at",
    "description",
    "external_id",
    "award_points",
];

type ParsedRow = Result<TransactionIn, Vec<FieldError>>;

fn invalid_row(e: impl std::fmt::Display) -> Vec<FieldError> {
    vec![FieldError::new("row", "invalid_row", e.to_string())]
}

fn parse_json(body: &[u8]) -> Result<Vec<ParsedRow>, ApiError> {
    let values: Vec<Value> = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "The body must be a JSON array of transactions: {e}."
        ))
    })?;
    Ok(values
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(invalid_row))
        .collect())
}

/// A CSV cell as the JSON value `TransactionIn` takes.
fn cell(name: &str, text: &str) -> Value {
    match name {
        "amount" => text
            .parse::<i64>()
            .map_or_else(|_| Value::String(text.into()), Value::from),
        "award_points" => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Value::Bool(true),
            "false" | "no" | "0" => Value::Bool(false),
            _ => Value::String(text.into()),
        },
        _ => Value::String(text.into()),
    }
}

fn parse_csv(body: &[u8]) -> Result<Vec<ParsedRow>, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| ApiError::bad_request(format!("The CSV header is not readable: {e}.")))?
        .clone();
    if let Some(unknown) = headers.iter().find(|h| !CSV_FIELDS.contains(h)) {
        return Err(ApiError::bad_request(format!(
            "The CSV column {unknown:?} is not a transaction field; use: {}.",
            CSV_FIELDS.join(", ")
        )));
    }
    Ok(reader
        .records()
        .map(|record| {
            let record = record.map_err(invalid_row)?;
            let mut object = Map::new();
            for (name, value) in headers.iter().zip(record.iter()) {
                let value = csv_cell::restore(value);
                if !value.is_empty() {
                    object.insert(name.to_string(), cell(name, value));
                }
            }
            serde_json::from_value(Value::Object(object)).map_err(invalid_row)
        })
        .collect())
}

/// Import transactions
///
/// Managers and admins (`transactions:manage` for API keys). Send a JSON array of transactions
/// (`application/json`) or a CSV file (`text/csv`) whose header names TransactionIn fields. Up to 10,000 rows,
/// in one database transaction. Each row is recorded as `POST /v1/transactions` records it: a row whose
/// `external_id` is already stored for its customer with the same values is `unchanged` (nothing written, no
/// points earned twice), with different values an `error` (code `conflict`).
#[utoipa::path(
    security(("bearer" = ["transactions:manage"])),
    tag = "transactions",
    params(ImportParams, ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe.")),
    request_body(
        description = "The rows: a JSON array of objects with the fields of TransactionIn, or CSV with those fields \
as columns. Each row is checked on its own and reported in `rows`.",
        content(
            (Vec<Object> = "application/json", example = json!([{"kind": "purchase", "account_id": "01937c5d-0000-7000-8000-000000000001", "amount": 120000, "currency": "EUR", "external_id": "INV-1"}])),
            (String = "text/csv", example = json!("kind,account_id,amount,currency,external_id\npurchase,01937c5d-0000-7000-8000-000000000001,120000,EUR,INV-1\n"))
        )
    ),
    responses(
        (status = 200, description = "Per-row results.", body = ImportReport),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "`all_or_nothing` and some rows failed: nothing was written. A problem+json whose `rows` member lists every row's result.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transactions/import")]
async fn import_transactions(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    params: web::Query<ImportParams>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Transactions, Level::Manage)?;
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

async fn run_import(
    db: &Db,
    actor: &Actor,
    rows: Vec<ParsedRow>,
    mode: ImportMode,
) -> Result<ImportReport, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let mut results = Vec::with_capacity(rows.len());
    for (index, parsed) in rows.into_iter().enumerate() {
        let fields = match parsed {
            Ok(input) => input.into_fields(now).map_err(|e| row_errors(e, "row")),
            Err(errors) => Err(Ok(errors)),
        };
        let outcome = match fields {
            Err(errors) => Err(errors?),
            Ok(fields) => match repo::record(&mut tx, actor, &fields).await {
                Ok(Some(posted)) => Ok((
                    posted.row.id,
                    if posted.replayed {
                        RowStatus::Unchanged
                    } else {
                        RowStatus::Created
                    },
                )),
                Ok(None) => {
                    return Err(ApiError::conflict(
                        "Another request stored one of these external ids while the import ran: nothing was \
                         written. Retry the import.",
                    ));
                }
                Err(e) => Err(row_errors(e, "external_id")?),
            },
        };
        results.push(RowResult::of(index + 1, outcome));
    }
    let report = ImportReport::of(results, mode);
    if report.written {
        tx.commit().await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_take_the_types_of_the_fields() {
        let rows = parse_csv(
            b"kind,account_id,amount,currency,award_points\npurchase,01937c5d-0000-7000-8000-000000000001,120,EUR,yes\n\
              refund,01937c5d-0000-7000-8000-000000000001,ten,EUR,\n",
        )
        .unwrap();
        let first = rows[0].as_ref().unwrap();
        assert_eq!(first.amount, 120);
        assert_eq!(first.award_points, Some(true));
        assert!(rows[1].is_err(), "a non-numeric amount is the row's error");
    }

    #[test]
    fn unknown_csv_columns_are_refused() {
        assert!(parse_csv(b"kind,amount,price\npurchase,1,2\n").is_err());
    }
}
