//! Optimistic concurrency: every editable resource has a `version`; responses
//! carry it as a strong `ETag`, and `PATCH`/`DELETE` honour `If-Match`.

use actix_web::{HttpRequest, http::header};

use super::error::ApiError;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version the caller expects, from `If-Match`: `None` when the header is
/// absent or `*` (any version).
pub fn expected_version(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "If-Match {text:?} is not an ETag of this API: send back the ETag header of your last read, e.g. \"3\"."
            ))
        })
}

/// The one `If-Match` rule: when the caller sent a version, it must be the
/// current one (else 412 naming the current ETag); without one, the write
/// applies to whatever is current.
pub fn check(expected: Option<i64>, current_version: i64) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != current_version => Err(stale(current_version)),
        _ => Ok(()),
    }
}

/// The 412 for a stale `If-Match`.
pub fn stale(current_version: i64) -> ApiError {
    ApiError::precondition_failed(format!(
        "The resource was changed by someone else (its ETag is now {}); read it again and reapply your change.",
        etag(current_version)
    ))
    .with("current_etag", etag(current_version))
}
