//! A segment's `filter`: the list filters of its entity as a JSON object.
//!
//! It is turned into the list's own parameters (`ContactListParams`,
//! `AccountListParams`) by the very parser that reads the list's query
//! string (actix's `web::Query`), and into a query by the list's own
//! `query()`, so a filter means exactly what the same query parameters mean
//! on `GET /v1/contacts` or `GET /v1/accounts`, and a filter the list gains
//! is a segment filter at once. Values are written as query parameters
//! would be: strings, with JSON numbers and booleans accepted as their text.

use actix_web::web;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value};

use super::model::SegmentEntity;
use crate::{
    accounts::{repo::AccountQuery, routes::AccountListParams},
    auth::{Area, Principal},
    contacts::{repo::ContactQuery, routes::ContactListParams},
    db::Db,
    http::{ApiError, FieldError},
};

/// Parameters of the lists that page or present the rows rather than choose
/// them: a segment's members and export take them instead.
pub const NOT_FILTERS: [&str; 5] = ["limit", "cursor", "sort", "include_total", "expand"];

/// A segment's filter read into its list's parameters and query.
pub enum Members {
    Contacts {
        params: ContactListParams,
        query: ContactQuery,
    },
    Accounts {
        params: AccountListParams,
        query: AccountQuery,
    },
}

impl Members {
    /// Reads `filter` for `entity`; every bad member is reported, each as
    /// `filter.<name>`.
    pub fn parse(
        entity: SegmentEntity,
        filter: &Map<String, Value>,
    ) -> Result<Self, Vec<FieldError>> {
        Ok(match entity {
            SegmentEntity::Contacts => {
                let params: ContactListParams = params(filter)?;
                let query = params.query().map_err(in_filter)?;
                Members::Contacts { params, query }
            }
            SegmentEntity::Accounts => {
                let params: AccountListParams = params(filter)?;
                let query = params.query().map_err(in_filter)?;
                Members::Accounts { params, query }
            }
        })
    }

    /// A stored filter, read again: 409 if it no longer reads (a filter the
    /// list has dropped since), with what to fix.
    pub fn stored(entity: SegmentEntity, filter: &Map<String, Value>) -> Result<Self, ApiError> {
        Self::parse(entity, filter).map_err(|errors| {
            ApiError::conflict(
                "The segment's filter is no longer valid for its entity's list: fix it with PATCH (see `errors`).",
            )
            .with("errors", errors)
        })
    }

    /// The area whose read access the members need.
    pub fn area(&self) -> Area {
        match self {
            Members::Contacts { .. } => Area::Contacts,
            Members::Accounts { .. } => Area::Accounts,
        }
    }

    /// How many records match, as the caller would count them with the list
    /// (`include_total`): a viewer's `q` matches names only.
    pub async fn count(&self, db: &Db, principal: &Principal) -> Result<i64, ApiError> {
        match self {
            Members::Contacts { query, .. } => {
                let query = ContactQuery {
                    search_names_only: principal.masks_personal_data(),
                    ..query.clone()
                };
                crate::contacts::repo::count(db, &query).await
            }
            Members::Accounts { query, .. } => crate::accounts::repo::count(db, query).await,
        }
    }
}

/// The filter with `null` members left out (a `null` filter is no filter).
pub fn normalised(filter: Map<String, Value>) -> Map<String, Value> {
    filter.into_iter().filter(|(_, v)| !v.is_null()).collect()
}

/// The list parameters `filter` names, read as the list reads its query string.
fn params<T: DeserializeOwned>(filter: &Map<String, Value>) -> Result<T, Vec<FieldError>> {
    let fields = field_names::<T>();
    let mut errors = Vec::new();
    let mut pairs = Vec::new();
    for (name, value) in filter {
        let field = format!("filter.{name}");
        if NOT_FILTERS.contains(&name.as_str()) || !fields.contains(&name.as_str()) {
            let filters: Vec<&str> = fields
                .iter()
                .copied()
                .filter(|f| !NOT_FILTERS.contains(f))
                .collect();
            let message = if NOT_FILTERS.contains(&name.as_str()) {
                format!(
                    "is not a filter but a paging or presentation parameter: pass it to the segment's members or export; filters are {}",
                    filters.join(", ")
                )
            } else {
                format!("is not a filter of this list: use {}", filters.join(", "))
            };
            errors.push(FieldError::new(field, "unknown_filter", message));
            continue;
        }
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Array(_) | Value::Object(_) => {
                errors.push(FieldError::new(
                    field,
                    "invalid_type",
                    "must be a string, a number or a boolean, as the query parameter would be",
                ));
                continue;
            }
        };
        let pair = format!("{}={}", encode(name), encode(&text));
        // Each member alone first, so every bad one is named.
        match web::Query::<T>::from_query(&pair) {
            Ok(_) => pairs.push(pair),
            Err(e) => errors.push(FieldError::new(field, "invalid", without_prefix(&e))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    web::Query::<T>::from_query(&pairs.join("&"))
        .map(web::Query::into_inner)
        .map_err(|e| vec![FieldError::new("filter", "invalid", without_prefix(&e))])
}

fn without_prefix(e: &actix_web::error::QueryPayloadError) -> String {
    match e {
        actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    }
}

/// The errors of the list's `query()` (a 400 about a parameter), as errors
/// of the filter.
fn in_filter(err: ApiError) -> Vec<FieldError> {
    match err {
        ApiError::Problem { errors, .. } if !errors.is_empty() => errors
            .into_iter()
            .map(|e| FieldError::new(format!("filter.{}", e.field), e.code, e.message))
            .collect(),
        other => vec![FieldError::new("filter", "invalid", other.to_string())],
    }
}

/// Percent-encodes everything but the unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The field names a `#[derive(Deserialize)]` struct accepts, as it tells
/// its deserializer (so the filters follow the list's struct by themselves).
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut names = Names(&[]);
    let _ = T::deserialize(&mut names);
    names.0
}

struct Names(&'static [&'static str]);

impl<'de> Deserializer<'de> for &mut Names {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(de::Error::custom("only the field names were wanted"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_filters_are_the_list_parameters() {
        let names = field_names::<ContactListParams>();
        assert!(names.contains(&"lifecycle_stage") && names.contains(&"limit"));
        assert!(field_names::<AccountListParams>().contains(&"revenue_currency"));
    }

    #[test]
    fn values_read_as_query_parameters_would() {
        let parsed = Members::parse(
            SegmentEntity::Accounts,
            &filter(json!({"key_account": true, "country": "de", "q": "a&b=c", "tag": null})),
        );
        let Ok(Members::Accounts { query, .. }) = parsed else {
            panic!("a valid filter")
        };
        assert_eq!(query.key_account, Some(true));
        assert_eq!(query.q.as_deref(), Some("a&b=c"));
        assert!(query.tag.is_none());
        let strings = Members::parse(
            SegmentEntity::Accounts,
            &filter(json!({"key_account": "false"})),
        );
        assert!(
            matches!(strings, Ok(Members::Accounts { query, .. }) if query.key_account == Some(false))
        );
    }

    #[test]
    fn every_bad_member_is_named() {
        let Err(errors) = Members::parse(
            SegmentEntity::Contacts,
            &filter(
                json!({"nope": 1, "limit": 5, "lifecycle_stage": "x", "owner_id": "y", "tag": ["a"]}),
            ),
        ) else {
            panic!("refused")
        };
        let mut names = fields(errors);
        names.sort();
        assert_eq!(
            names,
            [
                "filter.lifecycle_stage",
                "filter.limit",
                "filter.nope",
                "filter.owner_id",
                "filter.tag"
            ]
        );
    }

    #[test]
    fn the_lists_own_checks_apply() {
        let Err(errors) = Members::parse(
            SegmentEntity::Accounts,
            &filter(json!({"revenue_currency": "EURO"})),
        ) else {
            panic!("refused")
        };
        assert_eq!(fields(errors), ["filter.revenue_currency"]);
    }
}
