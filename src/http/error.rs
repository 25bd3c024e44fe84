//! The one error type every handler returns. It chooses the status and writes
//! an RFC 9457 `application/problem+json` body; internal errors are logged
//! with their cause and reach the client as an opaque 500.

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub type ApiResult<T> = Result<T, ApiError>;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:rapport:problem:validation-failed",
    "title": "The request body is not valid",
    "status": 422,
    "detail": "1 field is not valid: see `errors`.",
    "errors": [{"field": "email", "code": "invalid_email", "message": "must be an email address such as ana@example.com"}]
}))]
pub struct Problem {
    /// A URN naming the kind of problem; stable, safe to branch on.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, in words a caller can act on.
    pub detail: String,
    /// For validation failures: one entry per invalid field, sorted by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Problem-specific members (for example `existing_id` on a duplicate, or
    /// `allowed` on an illegal state change).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: Map<String, Value>,
}

/// One invalid field.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldError {
    /// The field's path in the request, e.g. `emails[1]` or `address.country`.
    pub field: String,
    /// A machine-readable code, e.g. `required`, `invalid_email`, `out_of_range`.
    pub code: String,
    /// What a valid value looks like.
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    Problem {
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: String,
        errors: Vec<FieldError>,
        extra: Map<String, Value>,
        headers: Vec<(header::HeaderName, String)>,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn problem(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError::Problem {
            status,
            slug,
            title,
            detail: detail.into(),
            errors: vec![],
            extra: Map::new(),
            headers: vec![],
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::problem(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request is malformed",
            detail,
        )
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::problem(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication is required",
            detail,
        )
        .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"rapport\"")
    }
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let challenge = format!(
            "Bearer realm=\"rapport\", error=\"invalid_token\", error_description=\"{}\"",
            detail.replace('"', "'")
        );
        Self::problem(
            StatusCode::UNAUTHORIZED,
            "invalid-token",
            "The credentials are not valid",
            detail,
        )
        .with_header(header::WWW_AUTHENTICATE, &challenge)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::problem(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
    }
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("No {what} has the id {id}."),
        )
    }
    pub fn not_found_detail(detail: impl Into<String>) -> Self {
        Self::problem(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
    pub fn route_not_found(path: &str) -> Self {
        Self::problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("There is no endpoint at {path}; see /openapi.json or /docs for the API."),
        )
    }
    pub fn method_not_allowed(method: &str, path: &str, allowed: &[String]) -> Self {
        Self::problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!(
                "{path} does not accept {method}; it accepts {}.",
                allowed.join(", ")
            ),
        )
        .with_header(header::ALLOW, &allowed.join(", "))
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::problem(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict with the current state",
            detail,
        )
    }
    pub fn gone(detail: impl Into<String>) -> Self {
        Self::problem(StatusCode::GONE, "gone", "No longer available", detail)
    }
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::problem(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "The resource has changed",
            detail,
        )
    }
    pub fn precondition_required(detail: impl Into<String>) -> Self {
        Self::problem(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "A precondition header is required",
            detail,
        )
    }
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The request body is too large",
            detail,
        )
    }
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported content type",
            detail,
        )
    }
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            "The request cannot be processed",
            detail,
        )
    }
    /// 429 with `Retry-After` (whole seconds, at least 1).
    pub fn too_many_requests(detail: impl Into<String>, retry_after: std::time::Duration) -> Self {
        let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        Self::problem(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            detail,
        )
        .with("retry_after_seconds", seconds.max(1))
        .with_header(header::RETRY_AFTER, &seconds.max(1).to_string())
    }
    pub fn service_unavailable(detail: impl Into<String>) -> Self {
        Self::problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }

    /// 422 with one entry per invalid field, sorted so the output is stable.
    pub fn validation(mut errors: Vec<FieldError>) -> Self {
        errors.sort();
        let detail = match errors.len() {
            1 => format!("`{}` {}", errors[0].field, errors[0].message),
            n => format!("{n} fields are not valid: see `errors`."),
        };
        let mut err = Self::problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
            "The request body is not valid",
            detail,
        );
        if let ApiError::Problem { errors: e, .. } = &mut err {
            *e = errors;
        }
        err
    }

    /// 400 for members of the wrong JSON shape, one entry per member (a
    /// `null` for a field that cannot be cleared): the body is malformed,
    /// not a value that breaks a rule.
    pub fn malformed_fields(mut errors: Vec<FieldError>) -> Self {
        errors.sort();
        let fields: Vec<String> = errors.iter().map(|e| format!("`{}`", e.field)).collect();
        let mut err = Self::bad_request(format!(
            "{} cannot be null: send a value, or leave the field out to keep it.",
            fields.join(", ")
        ));
        if let ApiError::Problem { errors: e, .. } = &mut err {
            *e = errors;
        }
        err
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    /// 400 for a query parameter whose value breaks a rule. `errors` names
    /// the parameter too, so the same parameters given another way (a
    /// segment's `filter`) can say which one is wrong.
    pub fn bad_parameter(name: &str, value: &str, code: &str, message: &str) -> Self {
        let mut err = Self::bad_request(format!("{name}={value:?}: {message}."));
        if let ApiError::Problem { errors, .. } = &mut err {
            errors.push(FieldError::new(name, code, message));
        }
        err
    }

    /// Adds a problem-specific member to the body.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        if let ApiError::Problem { extra, .. } = &mut self {
            extra.insert(
                key.to_string(),
                serde_json::to_value(value).unwrap_or(Value::Null),
            );
        }
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let ApiError::Problem { headers, .. } = &mut self {
            headers.push((name, value.to_string()));
        }
        self
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    pub fn to_problem(&self) -> Problem {
        match self {
            ApiError::Problem {
                status,
                slug,
                title,
                detail,
                errors,
                extra,
                ..
            } => Problem {
                kind: format!("urn:rapport:problem:{slug}"),
                title: title.to_string(),
                status: status.as_u16(),
                detail: detail.clone(),
                errors: errors.clone(),
                extra: extra.clone(),
            },
            ApiError::Internal(_) => Problem {
                kind: "urn:rapport:problem:internal".into(),
                title: "Internal error".into(),
                status: 500,
                detail: "The server failed to handle this request. It has been logged; \
                         quote the X-Request-Id header when you report it."
                    .into(),
                errors: vec![],
                extra: Map::new(),
            },
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&err) {
            tracing::warn!(%err, "database unavailable");
            return ApiError::service_unavailable(
                "The database is not reachable or is busy right now; retry after the Retry-After seconds.",
            )
            .with_header(header::RETRY_AFTER, "2");
        }
        ApiError::Internal(format!("database: {err}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Problem { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        if let ApiError::Problem { headers, .. } = self {
            for (name, value) in headers {
                response.insert_header((name.clone(), value.as_str()));
            }
        }
        response.json(self.to_problem())
    }
}
