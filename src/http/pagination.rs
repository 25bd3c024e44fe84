//! Keyset pagination: `?limit=` and an opaque `?cursor=`, answered with
//! `{"data": [...], "next_cursor": ...}`. A cursor holds the sort key and id of
//! the last row served, so page 1,000 costs what page 1 costs.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub data: Vec<T>,
    /// Pass as `?cursor=` to get the next page; `null` on the last page.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
    /// The number of items matching the filters, when `include_total=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(ApiError::bad_request(format!(
                "limit={n} is out of range: use 1 to {MAX_LIMIT}."
            ))),
        }
    }

    pub fn cursor<K: DeserializeOwned>(&self) -> Result<Option<K>, ApiError> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("cursor keys serialize"))
}

pub fn decode_cursor<K: DeserializeOwned>(text: &str) -> Result<K, ApiError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "The cursor is not valid: pass back the `next_cursor` of a previous page unchanged, \
                 with the same filters and sort.",
            )
        })
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says that
/// another page exists.
pub fn page_from<R, T: ToSchema, K: Serialize>(
    mut rows: Vec<R>,
    limit: i64,
    key_of: impl Fn(&R) -> K,
    into: impl Fn(R) -> T,
) -> Page<T> {
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if has_more { rows.last().map(|r| encode_cursor(&key_of(r))) } else { None };
    Page { data: rows.into_iter().map(into).collect(), next_cursor, total: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let key = ("2026-01-01T00:00:00Z".to_string(), uuid::Uuid::nil());
        let text = encode_cursor(&key);
        let back: (String, uuid::Uuid) = decode_cursor(&text).unwrap();
        assert_eq!(back, key);
    }

    #[test]
    fn tampered_cursor_is_a_bad_request() {
        assert!(decode_cursor::<(String, uuid::Uuid)>("not-a-cursor!").is_err());
        assert!(decode_cursor::<(String, uuid::Uuid)>(&encode_cursor(&42)).is_err());
    }

    #[test]
    fn limit_is_bounded() {
        let p = |limit| PageParams { limit, cursor: None };
        assert_eq!(p(None).limit().unwrap(), 50);
        assert_eq!(p(Some(200)).limit().unwrap(), 200);
        assert!(p(Some(0)).limit().is_err());
        assert!(p(Some(201)).limit().is_err());
    }

    #[test]
    fn extra_row_makes_a_cursor() {
        let page = page_from(vec![1, 2, 3], 2, |r| *r, |r| r.to_string());
        assert_eq!(page.data, vec!["1", "2"]);
        assert_eq!(decode_cursor::<i32>(page.next_cursor.as_deref().unwrap()).unwrap(), 2);
        let last = page_from(vec![1, 2], 2, |r| *r, |r| r.to_string());
        assert!(last.next_cursor.is_none());
    }
}
