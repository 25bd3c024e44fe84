//! What the API's operations are, read from the generated OpenAPI document:
//! each path's methods, the access each needs, and how large a body it takes.
//! The fallback (404/405), the idempotency middleware (re-checking rights
//! before a replay, bounding what it buffers) and nothing else read it, so
//! these facts have one source and can never drift from the routes.

use actix_web::dev::ResourceDef;
use serde_json::Value;

use super::{body::LARGEST_BODY, json::JSON_LIMIT};
use crate::auth::{Area, Level, Principal};

/// The access an operation declares (its OpenAPI security requirement).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    Public,
    /// An admin user.
    Admin,
    /// A role or API-key scope reaching this level in this area.
    Scope(Area, Level),
}

impl Access {
    /// Whether the caller has this access now (its role or scopes as they are).
    pub fn allows(&self, principal: &Principal) -> bool {
        match self {
            Access::Public => true,
            Access::Admin => principal.is_admin(),
            Access::Scope(area, level) => principal.require(*area, *level).is_ok(),
        }
    }

    fn of(op: &Value) -> Access {
        let scopes: Vec<&str> = op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|req| req.get("bearer"))
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        match scopes.first() {
            None => Access::Public,
            Some(&"admin") => Access::Admin,
            Some(scope) => scope
                .split_once(':')
                .and_then(|(area, level)| {
                    Some(Access::Scope(Area::parse(area)?, Level::parse(level)?))
                })
                // An unreadable declaration must not open the door.
                .unwrap_or(Access::Admin),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Operation {
    pub method: &'static str,
    pub access: Access,
    /// The largest body the operation's own extractor accepts.
    pub body_limit: usize,
}

pub struct RouteTable(Vec<(ResourceDef, Vec<Operation>)>);

const METHODS: [(&str, &str); 5] = [
    ("GET", "get"),
    ("POST", "post"),
    ("PUT", "put"),
    ("PATCH", "patch"),
    ("DELETE", "delete"),
];

impl RouteTable {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let doc = serde_json::to_value(api).unwrap_or_default();
        let routes = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, item)| {
                // Only what the routes answer: actix's `#[get]` does not match HEAD.
                let operations = METHODS
                    .iter()
                    .filter_map(|(method, key)| {
                        let op = item.get(*key)?;
                        let takes_csv = op.pointer("/requestBody/content/text~1csv").is_some();
                        Some(Operation {
                            method,
                            access: Access::of(op),
                            body_limit: if takes_csv { LARGEST_BODY } else { JSON_LIMIT },
                        })
                    })
                    .collect();
                (ResourceDef::new(path.as_str()), operations)
            })
            .collect();
        Self(routes)
    }

    /// The operations of the path: a literal path (`/v1/contacts/import`) wins
    /// over a pattern that also matches it (`/v1/contacts/{id}`).
    fn operations(&self, path: &str) -> Option<&[Operation]> {
        self.literal_operations(path).or_else(|| {
            self.0
                .iter()
                .find(|(def, _)| def.is_match(path))
                .map(|(_, ops)| ops.as_slice())
        })
    }

    fn literal_operations(&self, path: &str) -> Option<&[Operation]> {
        self.0
            .iter()
            .find(|(def, _)| !def.pattern().is_some_and(|p| p.contains('{')) && def.is_match(path))
            .map(|(_, ops)| ops.as_slice())
    }

    /// The methods the path answers.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        self.operations(path).map(methods)
    }

    /// The methods of a literal path equal to `path`, if there is one.
    pub fn literal(&self, path: &str) -> Option<Vec<String>> {
        self.literal_operations(path).map(methods)
    }

    /// The operation a request reaches, if any.
    pub fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        self.operations(path)?.iter().find(|op| op.method == method)
    }
}

fn methods(ops: &[Operation]) -> Vec<String> {
    ops.iter().map(|op| op.method.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn access_is_read_from_the_security_requirement() {
        assert_eq!(Access::of(&json!({"security": [{}]})), Access::Public);
        assert_eq!(Access::of(&json!({})), Access::Public);
        assert_eq!(
            Access::of(&json!({"security": [{"bearer": ["admin"]}]})),
            Access::Admin
        );
        assert_eq!(
            Access::of(&json!({"security": [{"bearer": ["contacts:manage"]}]})),
            Access::Scope(Area::Contacts, Level::Manage)
        );
        assert_eq!(
            Access::of(&json!({"security": [{"bearer": ["nonsense"]}]})),
            Access::Admin
        );
    }

    #[test]
    fn the_generated_document_gives_every_operation_its_access_and_limit() {
        let table = RouteTable::from_openapi(&crate::app::openapi());
        let import = table.find("POST", "/v1/contacts/import").unwrap();
        assert_eq!(import.access, Access::Scope(Area::Contacts, Level::Manage));
        assert_eq!(import.body_limit, LARGEST_BODY);
        let create = table.find("POST", "/v1/contacts").unwrap();
        assert_eq!(create.access, Access::Scope(Area::Contacts, Level::Write));
        assert_eq!(create.body_limit, JSON_LIMIT);
        assert_eq!(
            table.find("POST", "/v1/api-keys").unwrap().access,
            Access::Admin
        );
        assert_eq!(
            table.find("POST", "/v1/auth/token").unwrap().access,
            Access::Public
        );
        assert!(table.find("PATCH", "/v1/contacts/import").is_none());
        assert_eq!(table.literal("/v1/contacts/import").unwrap(), ["POST"]);
    }
}
