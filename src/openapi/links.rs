//! OpenAPI `links` from each create operation to the operations that take the
//! created `id` (see `protocol::apply`).

use super::protocol::METHODS;
use serde_json::{Map, Value, json};

/// `POST <collection>` operations that answer 201, with the body field that
/// holds the new resource's key (`id`, or `contact_id` for loyalty members).
pub(super) fn create_operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let created = &item["post"]["responses"]["201"];
        if created.is_null() {
            continue;
        }
        let schema = &created["content"]["application/json"]["schema"];
        let properties = resolve(doc, schema)["properties"].clone();
        let key = ["id", "contact_id"]
            .into_iter()
            .find(|k| properties.get(*k).is_some());
        if let Some(key) = key {
            out.push((path.clone(), key.to_string()));
        }
    }
    out
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
        Some(pointer) => doc.pointer(&format!("/{pointer}")).unwrap_or(schema),
        None => schema,
    }
}

/// Operations with exactly one path parameter: (path, method, operationId, parameter).
pub(super) fn link_targets(doc: &Value) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let op = &item[method];
            let Some(operation_id) = op["operationId"].as_str() else {
                continue;
            };
            let params: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if let [param] = params[..] {
                out.push((
                    path.clone(),
                    method.to_string(),
                    operation_id.to_string(),
                    param.to_string(),
                ));
            }
        }
    }
    out
}

/// Links from a create to every operation on `<collection>/{param}…`, and to
/// operations elsewhere whose single parameter names this kind of resource
/// (a new contact's `id` is the `{contact_id}` of the loyalty member paths).
pub(super) fn add_links(
    path: &str,
    field: &str,
    op: &mut Map<String, Value>,
    targets: &[(String, String, String, String)],
) {
    let singular_id = path
        .rsplit('/')
        .next()
        .and_then(|last| last.strip_suffix('s'))
        .map(|s| format!("{}_id", s.replace('-', "_")));
    let mut links = Map::new();
    for (target_path, method, operation_id, param) in targets {
        let under = target_path
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with(&format!("/{{{param}}}")));
        let names_the_kind = field == "id" && singular_id.as_deref() == Some(param.as_str());
        if !(under || names_the_kind) {
            continue;
        }
        let name = link_name(operation_id);
        links.insert(
            name,
            json!({
                "operationId": operation_id,
                "parameters": {param: format!("$response.body#/{field}")},
                "description": format!("`{}` of the created resource as `{{{param}}}` in {} {target_path}.", field, method.to_uppercase()),
            }),
        );
    }
    if !links.is_empty() {
        op["responses"]["201"]["links"] = Value::Object(links);
    }
}

/// `get_contact` → `GetContact` (link names are components-style identifiers).
fn link_name(operation_id: &str) -> String {
    operation_id
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}
