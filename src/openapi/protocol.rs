//! What the shared HTTP layers do to every operation, written into the
//! document once instead of into each handler's annotations.
//!
//! The middleware and extractors in `crate::http` answer the same way on every
//! route: a JSON body can be malformed (400), too large (413), of the wrong
//! type (415) or invalid (422); an `Idempotency-Key` can be malformed (400),
//! in flight (409) or reused with another body (422); the database can be
//! unavailable (503); every `/v1` call can be rate limited (429). Each rule below looks at what an operation has (a body,
//! a path parameter, a header) and adds the responses that layer can give,
//! so the document lists every status a client can receive and stays true
//! when a handler is added. Create operations also get OpenAPI `links` to
//! the operations that take the created `id`.

use serde_json::{Map, Value, json};

use super::links::{add_links, create_operations, link_targets};

pub(super) const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Applies the rules to the whole document (as JSON: these are bulk edits of
/// its structure, not of one typed operation).
pub fn apply(doc: &mut Value) {
    add_shared_parameters(doc);
    add_rate_limited_response(doc);
    reference_page_items(doc);
    open_free_form_objects(doc);
    let creates = create_operations(doc);
    let targets = link_targets(doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            add_responses(path, method, op);
            if let Some((_, field)) = creates
                .iter()
                .find(|(p, _)| p == path)
                .filter(|_| method == "post")
            {
                add_links(path, field, op, &targets);
            }
        }
    }
}

/// utoipa writes the item schema of a generic `Page<T>` inline; where that
/// inline schema is exactly a named component, refer to it instead, so a
/// generated client types `page.data[0]` as `Contact`, not as an anonymous
/// copy of it.
fn reference_page_items(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let named: Vec<(String, Value)> = schemas
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (name, schema) in schemas.iter_mut() {
        if !name.starts_with("Page_") {
            continue;
        }
        let Some(items) = schema.pointer_mut("/properties/data/items") else {
            continue;
        };
        let target = name.trim_start_matches("Page_");
        if let Some((found, _)) = named.iter().find(|(k, v)| k == target && v == items) {
            *items = json!({"$ref": format!("#/components/schemas/{found}")});
        }
    }
}

/// A bare `{"type": "object"}` (custom fields, a merge patch, an audit diff,
/// a problem's extra members) holds any members; JSON Schema says so already,
/// but generators read a bare object as one with no members at all
/// (openapi-typescript: `Record<string, never>`), so such a client could not
/// send custom fields. Say it explicitly.
fn open_free_form_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let free_form = map.get("type").is_some_and(|t| {
                t == "object" || t.as_array().is_some_and(|a| a.contains(&json!("object")))
            }) && !map.contains_key("properties")
                && !map.contains_key("additionalProperties");
            if free_form {
                map.insert("additionalProperties".into(), json!(true));
            }
            for child in map.values_mut() {
                open_free_form_objects(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(open_free_form_objects),
        _ => {}
    }
}

fn add_shared_parameters(doc: &mut Value) {
    let components = doc
        .as_object_mut()
        .expect("the document is an object")
        .entry("components")
        .or_insert_with(|| json!({}));
    components["parameters"]["IdempotencyKey"] = json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "Makes a retry safe: a retry with the same key and body gets the first response again \
    (with `Idempotent-Replayed: true`) and writes nothing; the same key with another body gets 422; a retry \
    while the first request is still running gets 409. Keys are kept 24 hours per caller.",
        "schema": idempotency_key_schema(),
    });
}

fn idempotency_key_schema() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$",
           "examples": ["0b6e1c9e-4d1f-4c38-9a8b-2f1e7c5d9a10"]})
}

fn is_public(op: &Map<String, Value>) -> bool {
    op.get("security")
        .and_then(Value::as_array)
        .is_some_and(|reqs| {
            reqs.iter()
                .all(|r| r.as_object().is_some_and(Map::is_empty))
        })
}

fn params_in<'a>(
    op: &'a Map<String, Value>,
    place: &'a str,
) -> impl Iterator<Item = &'a Value> + 'a {
    op.get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |p| p["in"] == place)
}

fn has_header(op: &Map<String, Value>, name: &str) -> bool {
    params_in(op, "header").any(|p| {
        p["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

fn add_responses(path: &str, method: &str, op: &mut Map<String, Value>) {
    let touches_db = path.starts_with("/v1/") || path == "/readyz";
    let public = is_public(op);
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    if op.contains_key("requestBody") {
        wanted.extend([
            ("400", "BadRequest"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "Unprocessable"),
        ]);
    }
    if params_in(op, "query").next().is_some() {
        wanted.push(("400", "BadRequest"));
    }
    if params_in(op, "path").next().is_some() {
        wanted.push(("404", "NotFound"));
    }
    if has_header(op, "If-Match") {
        wanted.extend([("400", "BadRequest"), ("412", "PreconditionFailed")]);
    }
    if method == "post" && !public {
        if has_header(op, "Idempotency-Key") {
            normalise_idempotency_key(op);
        } else {
            op.entry("parameters")
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .expect("parameters is a list")
                .push(json!({"$ref": "#/components/parameters/IdempotencyKey"}));
        }
        wanted.extend([
            ("400", "BadRequest"),
            ("409", "Conflict"),
            ("422", "Unprocessable"),
        ]);
    }
    if !public && path.starts_with("/v1/") {
        wanted.push(("401", "Unauthorized"));
    }
    if path.starts_with("/v1/") {
        wanted.push(("429", "TooManyRequests"));
    }
    if touches_db {
        wanted.push(("503", "Unavailable"));
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    for (status, name) in wanted {
        responses
            .entry(status)
            .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
    }
    sort_by_status(responses);
}

/// The 429 answer of the rate limiter and the sign-in throttle.
fn add_rate_limited_response(doc: &mut Value) {
    let Some(responses) = doc
        .pointer_mut("/components/responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    responses.insert(
        "TooManyRequests".into(),
        json!({
            "description": "The caller is over its rate limit (per credential, or per client address without one), \
or sign-ins for this account or from this address are blocked after repeated failures. Wait the `Retry-After` \
seconds. Every `/v1` answer carries `RateLimit-Policy` (e.g. `\"per-credential\";q=6000;w=60`) and `RateLimit` \
(e.g. `\"per-credential\";r=5999;t=1`: requests left, seconds until the quota is full again), per \
draft-ietf-httpapi-ratelimit-headers.",
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "required": true,
                    "schema": {"type": "integer", "minimum": 1}
                }
            },
            "content": {
                "application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "example": {
                        "type": "urn:rapport:problem:rate-limited", "title": "Too many requests", "status": 429,
                        "detail": "This caller is over its limit of 6000 requests a minute; retry after the time in `Retry-After`.",
                        "retry_after_seconds": 1
                    }
                }
            }
        }),
    );
}

/// Handlers declare the header as an optional string; the middleware's rule is stricter.
fn normalise_idempotency_key(op: &mut Map<String, Value>) {
    for param in op
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if param["in"] == "header"
            && param["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("Idempotency-Key"))
        {
            param["schema"] = idempotency_key_schema();
        }
    }
}

fn sort_by_status(responses: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    responses.extend(entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "paths": {
                "/v1/things": {"post": {
                    "operationId": "create_thing",
                    "requestBody": {"content": {}},
                    "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
                }},
                "/v1/things/{id}": {"get": {
                    "operationId": "get_thing",
                    "parameters": [{"name": "id", "in": "path"}],
                    "responses": {"200": {}}
                }},
                "/v1/other/{thing_id}/x": {"get": {
                    "operationId": "get_other",
                    "parameters": [{"name": "thing_id", "in": "path"}],
                    "responses": {"200": {}}
                }},
                "/healthz": {"get": {"operationId": "healthz", "security": [{}], "responses": {"200": {}}}}
            },
            "components": {"schemas": {"Thing": {"properties": {"id": {}}}}}
        })
    }

    #[test]
    fn a_body_a_path_parameter_and_a_post_each_bring_their_responses() {
        let mut d = doc();
        apply(&mut d);
        let create: Vec<&String> = d["paths"]["/v1/things"]["post"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            create,
            [
                "201", "400", "401", "409", "413", "415", "422", "429", "503"
            ]
        );
        let get: Vec<&String> = d["paths"]["/v1/things/{id}"]["get"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(get, ["200", "401", "404", "429", "503"]);
        let health: Vec<&String> = d["paths"]["/healthz"]["get"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(health, ["200"]);
        assert_eq!(
            d["paths"]["/v1/things"]["post"]["parameters"][0]["$ref"],
            "#/components/parameters/IdempotencyKey"
        );
    }

    #[test]
    fn a_create_links_to_the_operations_that_take_its_id() {
        let mut d = doc();
        apply(&mut d);
        let links = &d["paths"]["/v1/things"]["post"]["responses"]["201"]["links"];
        assert_eq!(links["GetThing"]["parameters"]["id"], "$response.body#/id");
        assert_eq!(
            links["GetOther"]["parameters"]["thing_id"],
            "$response.body#/id"
        );
    }
}
