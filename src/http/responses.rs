//! Reusable OpenAPI error responses, referenced from every endpoint's
//! `responses(...)` as `(status = 404, response = NotFound)`. Each is the shared
//! problem+json schema with an example a client can match against.

#![allow(dead_code)]

use utoipa::ToResponse;

use super::error::Problem;

/// The request is malformed: invalid JSON, an unknown field, a bad query parameter or cursor.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:bad-request", "title": "The request is malformed", "status": 400,
    "detail": "The JSON body does not match the expected shape: unknown field `emial`, expected one of `email`, `first_name` at line 1 column 8."
}))]
pub struct BadRequest(Problem);

/// No valid credentials: the `Authorization` header is missing, or its token is expired, malformed or wrongly signed. The `WWW-Authenticate` header says why.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:invalid-token", "title": "The credentials are not valid", "status": 401,
    "detail": "the access token has expired; get a new one from /v1/auth/refresh"
}))]
pub struct Unauthorized(Problem);

/// The caller's role or API-key scopes do not allow this.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:forbidden", "title": "Not allowed", "status": 403,
    "detail": "Your role (viewer) cannot change contacts."
}))]
pub struct Forbidden(Problem);

/// No resource has this id (or it was deleted).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:not-found", "title": "Not found", "status": 404,
    "detail": "No contact has the id 01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20."
}))]
pub struct NotFound(Problem);

/// The request conflicts with the current state (a duplicate, a record still in use, an illegal state change, an idempotency key in flight).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:conflict", "title": "Conflict with the current state", "status": 409,
    "detail": "A contact with the email ana@acme.example already exists.",
    "existing_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20"
}))]
pub struct Conflict(Problem);

/// What the request points at is no longer kept (an events cursor older than the retention period).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:gone", "title": "No longer available", "status": 410,
    "detail": "This cursor points before events that were removed after the 30-day retention period; start again without `after`, or resynchronise from the resources' lists."
}))]
pub struct Gone(Problem);

/// `If-Match` names a version that is no longer current.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:precondition-failed", "title": "The resource has changed", "status": 412,
    "detail": "The resource was changed by someone else (its ETag is now \"4\"); read it again and reapply your change.",
    "current_etag": "\"4\""
}))]
pub struct PreconditionFailed(Problem);

/// The body is larger than the endpoint accepts.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:payload-too-large", "title": "The request body is too large", "status": 413,
    "detail": "The body is 2097152 bytes; the limit is 1048576 bytes."
}))]
pub struct PayloadTooLarge(Problem);

/// The body is not sent as JSON.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:unsupported-media-type", "title": "Unsupported content type", "status": 415,
    "detail": "Send the body as JSON with `Content-Type: application/json`."
}))]
pub struct UnsupportedMediaType(Problem);

/// The body is well-formed but some fields are not valid (see `errors`), or an `Idempotency-Key` was reused with a different body.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:validation-failed", "title": "The request body is not valid", "status": 422,
    "detail": "2 fields are not valid: see `errors`.",
    "errors": [
        {"field": "country", "code": "invalid_country", "message": "must be an ISO 3166-1 alpha-2 code such as DE or CN"},
        {"field": "email", "code": "invalid_email", "message": "must be an email address such as ana@example.com"}
    ]
}))]
pub struct Unprocessable(Problem);

/// A required precondition header (`If-Match` or `Idempotency-Key`) is missing.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:precondition-required", "title": "A precondition header is required", "status": 428,
    "detail": "Send an Idempotency-Key header (any unique string up to 255 characters) so a retry is never counted twice."
}))]
pub struct PreconditionRequired(Problem);

/// The database is unreachable or saturated; retry after the `Retry-After` seconds.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", example = json!({
    "type": "urn:rapport:problem:unavailable", "title": "Service unavailable", "status": 503,
    "detail": "The database is not reachable."
}))]
pub struct Unavailable(Problem);
