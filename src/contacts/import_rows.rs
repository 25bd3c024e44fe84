//! The rows of a contact import: a JSON array or a CSV file parsed into
//! contact inputs, and how a row overlays the contact it updates.

use super::import::ParsedRow;
use super::model::ContactIn;
use crate::{
    domain::csv_cell,
    http::{ApiError, FieldError},
};
use serde_json::{Map, Value};

pub(super) fn parse_json(body: &[u8]) -> Result<Vec<ParsedRow>, ApiError> {
    let values: Vec<Value> = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("The body must be a JSON array of contacts: {e}."))
    })?;
    Ok(values
        .into_iter()
        .map(|v| {
            let given = given_fields(&v);
            serde_json::from_value::<ContactIn>(v)
                .map(|input| (input, given))
                .map_err(|e| vec![FieldError::new("row", "invalid_row", e.to_string())])
        })
        .collect())
}

const CSV_FIELDS: [&str; 14] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "account_id",
    "language",
    "time_zone",
    "birthday",
    "country",
    "lifecycle_stage",
    "owner_id",
    "tags",
    "custom_fields",
];
/// Columns of the export that an import reads past (the server sets them).
const CSV_IGNORED: [&str; 3] = ["id", "created_at", "updated_at"];

/// The export's columns: the id, every field an import reads, the times.
pub(super) fn csv_header() -> impl Iterator<Item = &'static str> {
    std::iter::once(CSV_IGNORED[0])
        .chain(CSV_FIELDS)
        .chain(CSV_IGNORED[1..].iter().copied())
}

pub(super) fn parse_csv(body: &[u8]) -> Result<Vec<ParsedRow>, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| ApiError::bad_request(format!("The CSV header is not readable: {e}.")))?
        .clone();
    if let Some(unknown) = headers
        .iter()
        .find(|h| !CSV_FIELDS.contains(h) && !CSV_IGNORED.contains(h))
    {
        return Err(ApiError::bad_request(format!(
            "The CSV column {unknown:?} is not a contact field; use: {}.",
            CSV_FIELDS.join(", ")
        )));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let row = match record {
            Err(e) => Err(vec![FieldError::new("row", "invalid_row", e.to_string())]),
            Ok(record) => {
                let mut object = Map::new();
                for (name, value) in headers.iter().zip(record.iter()) {
                    let value = csv_cell::restore(value);
                    if value.is_empty() || CSV_IGNORED.contains(&name) {
                        continue;
                    }
                    let json = match name {
                        "tags" => Value::from(
                            value
                                .split(';')
                                .map(str::trim)
                                .filter(|t| !t.is_empty())
                                .collect::<Vec<_>>(),
                        ),
                        "custom_fields" => {
                            serde_json::from_str(value).unwrap_or(Value::String(value.to_string()))
                        }
                        _ => Value::String(value.to_string()),
                    };
                    object.insert(name.to_string(), json);
                }
                let value = Value::Object(object);
                let given = given_fields(&value);
                serde_json::from_value::<ContactIn>(value)
                    .map(|input| (input, given))
                    .map_err(|e| vec![FieldError::new("row", "invalid_row", e.to_string())])
            }
        };
        rows.push(row);
    }
    Ok(rows)
}

/// The fields a row sets, so an update by import changes only those.
pub(super) fn given_fields(value: &Value) -> Vec<&'static str> {
    let Some(object) = value.as_object() else {
        return vec![];
    };
    CSV_FIELDS
        .iter()
        .copied()
        .filter(|f| object.get(*f).is_some_and(|v| !v.is_null()))
        .collect()
}

/// Overlays the fields a row gives onto an existing contact's fields.
pub(super) fn overlay(existing: ContactIn, row: ContactIn, given: &[&str]) -> ContactIn {
    let has = |f: &str| given.contains(&f);
    ContactIn {
        first_name: if has("first_name") {
            row.first_name
        } else {
            existing.first_name
        },
        last_name: if has("last_name") {
            row.last_name
        } else {
            existing.last_name
        },
        email: if has("email") {
            row.email
        } else {
            existing.email
        },
        phone: if has("phone") {
            row.phone
        } else {
            existing.phone
        },
        title: if has("title") {
            row.title
        } else {
            existing.title
        },
        account_id: if has("account_id") {
            row.account_id
        } else {
            existing.account_id
        },
        language: if has("language") {
            row.language
        } else {
            existing.language
        },
        time_zone: if has("time_zone") {
            row.time_zone
        } else {
            existing.time_zone
        },
        birthday: if has("birthday") {
            row.birthday
        } else {
            existing.birthday
        },
        country: if has("country") {
            row.country
        } else {
            existing.country
        },
        lifecycle_stage: if has("lifecycle_stage") {
            row.lifecycle_stage
        } else {
            existing.lifecycle_stage
        },
        owner_id: if has("owner_id") {
            row.owner_id
        } else {
            existing.owner_id
        },
        tags: if has("tags") { row.tags } else { existing.tags },
        custom_fields: if has("custom_fields") {
            row.custom_fields
        } else {
            existing.custom_fields
        },
    }
}
