//! Answers requests no handler matched: `405` with `Allow` when the path exists
//! under other methods, `404` otherwise. The table of paths comes from the
//! generated OpenAPI document, so it can never drift from the routes.

use actix_web::{HttpRequest, dev::ResourceDef, web};

use super::error::ApiError;

pub struct RouteTable(Vec<(ResourceDef, Vec<String>)>);

impl RouteTable {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                // Only what the routes answer: actix's `#[get]` does not match HEAD.
                let methods: Vec<String> = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(m, _)| m.to_string())
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods of the path: a literal path (`/v1/contacts/import`) wins
    /// over a pattern that also matches it (`/v1/contacts/{id}`).
    pub fn allowed(&self, path: &str) -> Option<&[String]> {
        self.literal(path).or_else(|| {
            self.0
                .iter()
                .find(|(def, _)| def.is_match(path))
                .map(|(_, m)| m.as_slice())
        })
    }

    /// The methods of a literal path equal to `path`, if there is one.
    pub fn literal(&self, path: &str) -> Option<&[String]> {
        self.0
            .iter()
            .find(|(def, _)| !def.pattern().is_some_and(|p| p.contains('{')) && def.is_match(path))
            .map(|(_, m)| m.as_slice())
    }
}

pub async fn not_matched(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let path = req.path();
    Err(match table.allowed(path) {
        Some(methods) if !methods.is_empty() => {
            ApiError::method_not_allowed(req.method().as_str(), path, methods)
        }
        _ => ApiError::route_not_found(path),
    })
}
