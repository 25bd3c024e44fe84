//! The NUL character is refused at the edge, on every route.
//!
//! PostgreSQL cannot store `\u0000` in `text` or `jsonb` (SQLite can), so a
//! NUL that reached the database would be a 500 on one engine and stored data
//! on the other. This middleware answers first instead: 400 naming the query
//! parameter, or 422 naming the JSON field (`custom_fields.note`,
//! `consents[0].source`), or 422 naming the CSV line.
//!
//! It runs before authentication, so it reads at most [`JSON_LIMIT`] bytes:
//! a larger body (only bulk imports take one) is handed on as a stream, and
//! the import checks it itself with [`nul_in_body`] once it has read it.

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{Method, header},
    middleware::Next,
    web,
};
use serde_json::Value;

use futures_util::StreamExt;

use super::{ApiError, FieldError, json::JSON_LIMIT};

const NUL_MESSAGE: &str = "must not contain the NUL character (\\u0000)";

pub async fn refuse_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, Error> {
    if let Some(param) = query_parameter_with_nul(req.query_string()) {
        let err = ApiError::bad_request(format!(
            "The query parameter `{param}` contains the NUL character (%00), which no field accepts."
        ));
        return Ok(req.error_response(err).map_into_right_body());
    }
    if carries_body(&req) {
        match read_up_to_json_limit(&mut req).await {
            Ok(Some(bytes)) => {
                if let Some(err) = nul_in_body(&bytes) {
                    return Ok(req.error_response(err).map_into_right_body());
                }
            }
            Ok(None) => {} // larger than any JSON body: its endpoint checks it
            Err(err) => return Ok(req.error_response(err).map_into_right_body()),
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The whole body when it is at most [`JSON_LIMIT`] bytes; otherwise `None`,
/// with what was read put back in front of the rest of the stream. Either way
/// the handler's extractor reads the body as sent.
async fn read_up_to_json_limit(req: &mut ServiceRequest) -> Result<Option<web::Bytes>, ApiError> {
    let mut payload = req.take_payload();
    let mut head = web::BytesMut::new();
    while head.len() <= JSON_LIMIT {
        match payload.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => {
                return Err(ApiError::bad_request(format!(
                    "The body could not be read: {e}."
                )));
            }
            None => {
                let bytes = head.freeze();
                req.set_payload(Payload::from(bytes.clone()));
                return Ok(Some(bytes));
            }
        }
    }
    // actix's own boxed payload stream type (actix-http's `BoxedPayloadStream`).
    let rest: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(futures_util::stream::once(async move { Ok(head.freeze()) }).chain(payload));
    req.set_payload(Payload::from(rest));
    Ok(None)
}

fn carries_body(req: &ServiceRequest) -> bool {
    let method = req.method();
    (method == Method::POST || method == Method::PUT || method == Method::PATCH)
        && req.headers().contains_key(header::CONTENT_TYPE)
}

/// The name of the first query parameter whose name or value holds `%00`.
fn query_parameter_with_nul(query: &str) -> Option<String> {
    if !query.to_ascii_lowercase().contains("%00") {
        return None;
    }
    query
        .split('&')
        .find(|pair| pair.to_ascii_lowercase().contains("%00"))
        .map(|pair| pair.split('=').next().unwrap_or_default().to_string())
}

/// The problem to answer when a body holds NUL: the JSON field, or the line.
pub fn nul_in_body(bytes: &[u8]) -> Option<ApiError> {
    if let Some(line) = raw_nul_line(bytes) {
        // A raw NUL is never valid JSON; in CSV it is a value no field takes.
        return Some(ApiError::validation(vec![FieldError::new(
            format!("line {line}"),
            "nul_character",
            NUL_MESSAGE,
        )]));
    }
    if !contains(bytes, b"\\u0000") {
        return None;
    }
    // `\u0000` may also be the text of an escaped backslash (`\\u0000`): only
    // a string that really holds NUL counts. Invalid JSON goes on to the
    // extractor's own 400.
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let field = nul_path(&value, String::new())?;
    Some(ApiError::validation(vec![FieldError::new(
        if field.is_empty() {
            "body".into()
        } else {
            field
        },
        "nul_character",
        NUL_MESSAGE,
    )]))
}

fn raw_nul_line(bytes: &[u8]) -> Option<usize> {
    let at = bytes.iter().position(|b| *b == 0)?;
    Some(bytes[..at].iter().filter(|b| **b == b'\n').count() + 1)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The path (`a.b[2].c`) of the first string or key holding NUL.
fn nul_path(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let child = if path.is_empty() {
                key.replace('\0', "")
            } else {
                format!("{path}.{}", key.replace('\0', ""))
            };
            if key.contains('\0') {
                Some(child)
            } else {
                nul_path(item, child)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_parameter_with_nul_is_named() {
        assert_eq!(
            query_parameter_with_nul("limit=5&q=ab%00c"),
            Some("q".into())
        );
        assert_eq!(query_parameter_with_nul("limit=5&q=abc"), None);
    }

    #[test]
    fn the_json_field_holding_nul_is_named_and_an_escaped_backslash_is_not_nul() {
        let body = br#"{"first_name": "Ana", "custom_fields": {"note": "a\u0000b"}}"#;
        let Some(ApiError::Problem { errors, .. }) = nul_in_body(body) else {
            panic!("refused")
        };
        assert_eq!(errors[0].field, "custom_fields.note");
        let tags = br#"{"tags": ["ok", "x\u0000"]}"#;
        let Some(ApiError::Problem { errors, .. }) = nul_in_body(tags) else {
            panic!("refused")
        };
        assert_eq!(errors[0].field, "tags[1]");
        assert!(nul_in_body(br#"{"summary": "C:\\u0000"}"#).is_none());
        assert!(nul_in_body(br#"{"summary": "plain"}"#).is_none());
    }

    #[test]
    fn a_raw_nul_names_its_line() {
        let Some(ApiError::Problem { errors, .. }) =
            nul_in_body(b"email\nana@x.example\nb\0b@x.example\n")
        else {
            panic!("refused")
        };
        assert_eq!(errors[0].field, "line 3");
    }
}
