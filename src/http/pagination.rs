//! Keyset pagination: `?limit=` and an opaque `?cursor=`, answered with
//! `{"data": [...], "next_cursor": ...}`. A cursor holds the sort key and id of
//! the last row served, so page 1,000 costs what page 1 costs.
//!
//! The sort key can be personal (a name, or the email an email-only contact
//! sorts by), and a viewer sees those masked, so cursors are sealed: encrypted
//! and authenticated with XChaCha20-Poly1305 under a key derived from the JWT
//! secret. Every node of one deployment reads every other node's cursors; a
//! client can neither read nor forge one.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce, aead::Aead};
use rand::RngCore;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
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

const NONCE_LEN: usize = 24;

/// The deployment's cursor key, set once at start-up from the JWT secret
/// (process-wide like that secret: every list encodes cursors). Until then
/// (unit tests) a random key of this process is used.
static CURSOR_CIPHER: std::sync::OnceLock<XChaCha20Poly1305> = std::sync::OnceLock::new();

/// Derives the cursor key from the deployment's secret; the first call wins.
pub fn use_cursor_secret(secret: &[u8]) {
    let mut hasher = Sha256::new();
    hasher.update(b"rapport cursor key v1\0");
    hasher.update(secret);
    let key: [u8; 32] = hasher.finalize().into();
    let _ = CURSOR_CIPHER.set(XChaCha20Poly1305::new(&key.into()));
}

fn cipher() -> &'static XChaCha20Poly1305 {
    CURSOR_CIPHER.get_or_init(|| {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        XChaCha20Poly1305::new(&key.into())
    })
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    let plain = serde_json::to_vec(key).expect("cursor keys serialize");
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher()
        .encrypt(&XNonce::from(nonce), plain.as_slice())
        .expect("a cursor is far below the cipher's size limit");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    URL_SAFE_NO_PAD.encode(out)
}

pub fn decode_cursor<K: DeserializeOwned>(text: &str) -> Result<K, ApiError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .filter(|bytes| bytes.len() > NONCE_LEN)
        .and_then(|bytes| {
            let (nonce, sealed) = bytes.split_at(NONCE_LEN);
            let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
            cipher().decrypt(&XNonce::from(nonce), sealed).ok()
        })
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
    let next_cursor = if has_more {
        rows.last().map(|r| encode_cursor(&key_of(r)))
    } else {
        None
    };
    Page {
        data: rows.into_iter().map(into).collect(),
        next_cursor,
        total: None,
    }
}

/// How a sortable field is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKind {
    Time,
    Text,
    Int,
    /// A column that may be NULL: rows without a value come last, in either direction.
    TimeOrNull,
    TextOrNull,
    IntOrNull,
}

impl SortKind {
    fn nullable(self) -> bool {
        matches!(
            self,
            SortKind::TimeOrNull | SortKind::TextOrNull | SortKind::IntOrNull
        )
    }
}

/// A `?sort=field` / `?sort=-field` choice, resolved to a column.
#[derive(Clone, Debug)]
pub struct Sort {
    /// As the client wrote it, e.g. `-updated_at`; cursors remember it.
    pub name: String,
    pub field: &'static str,
    pub column: &'static str,
    pub kind: SortKind,
    pub descending: bool,
}

/// The position after the last row served: its sort value and id.
#[derive(Debug, Serialize, Deserialize)]
pub struct KeysetCursor {
    pub s: String,
    pub k: String,
    pub id: uuid::Uuid,
    /// The last row had no value in a nullable sort column.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub null: bool,
}

impl Sort {
    /// `allowed` lists `(field, column, kind)`; `default` is used when absent.
    pub fn parse(
        param: Option<&str>,
        allowed: &[(&'static str, &'static str, SortKind)],
        default: &str,
    ) -> Result<Sort, ApiError> {
        let name = param.unwrap_or(default).trim();
        let (descending, field) = match name.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, name),
        };
        let Some(&(field, column, kind)) = allowed.iter().find(|(f, _, _)| *f == field) else {
            let names: Vec<&str> = allowed.iter().map(|(f, _, _)| *f).collect();
            return Err(ApiError::bad_request(format!(
                "sort={name} is not supported: use one of {} (prefix with - for descending).",
                names.join(", ")
            )));
        };
        Ok(Sort {
            name: name.to_string(),
            field,
            column,
            kind,
            descending,
        })
    }

    /// Adds the keyset condition for `cursor` and returns the ORDER BY clause.
    /// `id_column` is the table's id (e.g. `c.id`).
    pub fn keyset(
        &self,
        filters: &mut crate::db::sql::Filters,
        cursor: Option<KeysetCursor>,
        id_column: &str,
    ) -> Result<String, ApiError> {
        use crate::db::sql::Arg;
        let direction = if self.descending { "DESC" } else { "ASC" };
        if let Some(cursor) = cursor {
            if cursor.s != self.name {
                return Err(ApiError::bad_request(
                    "The cursor belongs to a different sort: keep the same `sort` while paging.",
                ));
            }
            let op = if self.descending { "<" } else { ">" };
            let column = self.column;
            if cursor.null {
                let id = filters.arg(Arg::Uuid(cursor.id));
                filters.always(&format!("({column} IS NULL AND {id_column} {op} {id})"));
            } else {
                let invalid = || ApiError::bad_request("The cursor is not valid.");
                let key = match self.kind {
                    SortKind::Text | SortKind::TextOrNull => Arg::Text(cursor.k),
                    SortKind::Int | SortKind::IntOrNull => {
                        Arg::Int(cursor.k.parse().map_err(|_| invalid())?)
                    }
                    SortKind::Time | SortKind::TimeOrNull => Arg::Time(
                        chrono::DateTime::parse_from_rfc3339(&cursor.k)
                            .map_err(|_| invalid())?
                            .with_timezone(&chrono::Utc),
                    ),
                };
                let key = filters.arg(key);
                let id = filters.arg(Arg::Uuid(cursor.id));
                let after = format!("({column}, {id_column}) {op} ({key}, {id})");
                if self.kind.nullable() {
                    filters.always(&format!("({column} IS NULL OR {after})"));
                } else {
                    filters.always(&after);
                }
            }
        }
        let nulls_last = if self.kind.nullable() {
            format!("{} IS NULL, ", self.column)
        } else {
            String::new()
        };
        Ok(format!(
            "ORDER BY {nulls_last}{} {direction}, {id_column} {direction}",
            self.column
        ))
    }

    /// The cursor for a row with sort value `key` (see [`time_key`]).
    pub fn cursor_for(&self, key: String, id: uuid::Uuid) -> KeysetCursor {
        KeysetCursor {
            s: self.name.clone(),
            k: key,
            id,
            null: false,
        }
    }

    /// The cursor for a row of a nullable sort column.
    pub fn cursor_for_optional(&self, key: Option<String>, id: uuid::Uuid) -> KeysetCursor {
        match key {
            Some(key) => self.cursor_for(key, id),
            None => KeysetCursor {
                null: true,
                ..self.cursor_for(String::new(), id)
            },
        }
    }
}

/// A timestamp as a cursor key.
pub fn time_key(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
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
        // Plain base64 JSON, as cursors once were, is refused.
        let forged = URL_SAFE_NO_PAD.encode(br#"["a", "00000000-0000-0000-0000-000000000000"]"#);
        assert!(decode_cursor::<(String, uuid::Uuid)>(&forged).is_err());
        let mut bytes = URL_SAFE_NO_PAD.decode(encode_cursor(&"x")).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        assert!(decode_cursor::<String>(&URL_SAFE_NO_PAD.encode(bytes)).is_err());
    }

    #[test]
    fn a_cursor_does_not_show_its_key() {
        let text = encode_cursor(&"aaa.secret0@acme.example");
        let bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("secret0"));
        assert_ne!(
            text,
            encode_cursor(&"aaa.secret0@acme.example"),
            "a fresh nonce each time"
        );
    }

    #[test]
    fn limit_is_bounded() {
        let p = |limit| PageParams {
            limit,
            cursor: None,
        };
        assert_eq!(p(None).limit().unwrap(), 50);
        assert_eq!(p(Some(200)).limit().unwrap(), 200);
        assert!(p(Some(0)).limit().is_err());
        assert!(p(Some(201)).limit().is_err());
    }

    #[test]
    fn sorts_are_checked_and_resolved() {
        let allowed = [
            ("name", "c.name_key", SortKind::Text),
            ("created_at", "c.created_at", SortKind::Time),
        ];
        let s = Sort::parse(Some("-name"), &allowed, "created_at").unwrap();
        assert!(s.descending);
        assert_eq!(s.column, "c.name_key");
        assert!(Sort::parse(Some("email"), &allowed, "created_at").is_err());
        let mut f = crate::db::sql::Filters::new();
        let order = s
            .keyset(
                &mut f,
                Some(s.cursor_for("m".into(), uuid::Uuid::nil())),
                "c.id",
            )
            .unwrap();
        assert_eq!(order, "ORDER BY c.name_key DESC, c.id DESC");
        assert_eq!(f.where_sql(), "WHERE (c.name_key, c.id) < ($1, $2)");
        let other = Sort::parse(Some("name"), &allowed, "created_at").unwrap();
        assert!(
            other
                .keyset(
                    &mut f,
                    Some(s.cursor_for("m".into(), uuid::Uuid::nil())),
                    "c.id"
                )
                .is_err()
        );
    }

    #[test]
    fn extra_row_makes_a_cursor() {
        let page = page_from(vec![1, 2, 3], 2, |r| *r, |r| r.to_string());
        assert_eq!(page.data, vec!["1", "2"]);
        assert_eq!(
            decode_cursor::<i32>(page.next_cursor.as_deref().unwrap()).unwrap(),
            2
        );
        let last = page_from(vec![1, 2], 2, |r| *r, |r| r.to_string());
        assert!(last.next_cursor.is_none());
    }
}
