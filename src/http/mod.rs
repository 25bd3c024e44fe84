//! HTTP conventions shared by every resource module.

pub mod body;
pub mod check;
pub mod error;
pub mod etag;
pub mod export;
pub mod fallback;
pub mod idempotency;
pub mod import;
pub mod json;
pub mod nul;
pub mod observe;
pub mod operations;
pub mod pagination;
pub mod patch;
pub mod rate_limit;
pub mod responses;

pub use error::{ApiError, ApiResult, FieldError, Problem};
pub use json::ValidatedJson;
pub use pagination::{Page, PageParams};

use actix_web::{HttpRequest, HttpResponse, http::header};

/// `201 Created` with `Location` and, when versioned, `ETag`.
pub fn created(
    location: String,
    version: Option<i64>,
    body: impl serde::Serialize,
) -> HttpResponse {
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, location));
    if let Some(v) = version {
        response.insert_header((header::ETAG, etag::etag(v)));
    }
    response.json(body)
}

/// `200 OK` with `ETag`.
pub fn ok_versioned(version: i64, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag::etag(version)))
        .json(body)
}

/// The request id set by the `observe` middleware, for audit entries.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    use actix_web::HttpMessage;
    req.extensions()
        .get::<observe::RequestId>()
        .map(|r| r.0.clone())
}
