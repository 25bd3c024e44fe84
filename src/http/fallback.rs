//! Answers requests no handler matched: `405` with `Allow` when the path exists
//! under other methods, `404` otherwise. The table of paths comes from the
//! generated OpenAPI document, so it can never drift from the routes.

use actix_web::{HttpRequest, web};

use super::{error::ApiError, operations::RouteTable};

pub async fn not_matched(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let path = req.path();
    Err(match table.allowed(path) {
        Some(methods) if !methods.is_empty() => {
            ApiError::method_not_allowed(req.method().as_str(), path, &methods)
        }
        _ => ApiError::route_not_found(path),
    })
}
