//! Request-body extraction: JSON that is parsed strictly (unknown fields are
//! rejected by `#[serde(deny_unknown_fields)]` on every input type), then
//! validated, with every failure turned into problem+json.

use std::{borrow::Cow, future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpRequest,
    dev::Payload,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    mime, web,
};
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::error::{ApiError, FieldError};

/// The largest JSON body accepted, 1 MiB (bulk imports have their own limit).
pub const JSON_LIMIT: usize = 1024 * 1024;

/// `web::Json<T>` followed by `T::validate()`.
pub struct ValidatedJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidatedJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<T>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            value
                .validate()
                .map_err(|e| ApiError::validation(field_errors(&e)))?;
            Ok(ValidatedJson(value))
        })
    }
}

/// Flattens validator's nested errors into `{field, code, message}` entries.
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    out.push(FieldError::new(&path, e.code.to_string(), describe(e)));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> String {
    if let Some(message) = &e.message {
        return message.to_string();
    }
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max} characters long"),
            (Some(min), None) => format!("must be at least {min} characters long"),
            (None, Some(max)) => format!("must be at most {max} characters long"),
            _ => "has the wrong length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        "email" => "must be an email address such as ana@example.com".into(),
        other => Cow::from(format!("is not valid ({other})")).into_owned(),
    }
}

/// actix's own JSON errors (malformed body, wrong content type, too large).
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { length, limit } => ApiError::payload_too_large(
            format!("The body is {length} bytes; the limit is {limit} bytes."),
        ),
        JsonPayloadError::Overflow { limit } => {
            ApiError::payload_too_large(format!("The body is over the limit of {limit} bytes."))
        }
        JsonPayloadError::ContentType => ApiError::unsupported_media_type(
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::bad_request(format!(
            "The JSON body does not match the expected shape: {e}."
        )),
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request(format!("The body is not valid JSON: {e}."))
        }
        other => ApiError::bad_request(format!("The body could not be read: {other}.")),
    };
    api.into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let detail = match &err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    ApiError::bad_request(format!("The query string is not valid: {detail}.")).into()
}

pub fn path_error(err: PathError, req: &HttpRequest) -> actix_web::Error {
    // `PATCH /v1/contacts/import` reaches `/v1/contacts/{id}` with id "import":
    // the path exists, only not with this method.
    let table = req.app_data::<web::Data<super::operations::RouteTable>>();
    if let Some(methods) = table.and_then(|t| t.literal(req.path())) {
        return ApiError::method_not_allowed(req.method().as_str(), req.path(), &methods).into();
    }
    let detail = match &err {
        PathError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    ApiError::not_found_detail(format!("The URL path is not valid: {detail}.")).into()
}

/// Accepts `application/json` and `application/merge-patch+json` (PATCH).
pub fn accepts_json(mime: mime::Mime) -> bool {
    mime.type_() == mime::APPLICATION
        && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
}

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_LIMIT)
        .content_type_required(true)
        .content_type(accepts_json)
        .error_handler(json_error)
}
