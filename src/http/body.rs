//! Buffering a request body in a middleware, bounded, and handing it on.

use actix_web::{HttpMessage, dev::ServiceRequest, web};
use futures_util::StreamExt;

use super::error::ApiError;

/// The largest body any endpoint accepts (bulk imports); each endpoint's own
/// extractor then applies its lower limit.
pub const LARGEST_BODY: usize = 16 * 1024 * 1024;

/// Reads the whole body (refusing more than `limit` bytes with 413) and puts
/// it back, so the handler's extractor reads it as if untouched.
pub async fn buffer(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, ApiError> {
    let bytes = read_limited(req.take_payload(), limit).await?;
    req.set_payload(actix_web::dev::Payload::from(bytes.clone()));
    Ok(bytes)
}

/// Reads a body stream, refusing more than `limit` bytes with 413.
pub async fn read_limited<E: std::fmt::Display>(
    mut payload: impl futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(format!("The body could not be read: {e}.")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(format!(
                "The body is over the limit of {limit} bytes."
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
