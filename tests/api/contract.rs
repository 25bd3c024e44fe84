//! The document against the server: every enum the document lists is what
//! the server accepts, and input no field can hold (NUL, far-off years) or a
//! database that cannot answer gets a clear 4xx or 503, never a 5xx.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const UNLISTED: &str = "not_a_listed_value";

/// An enum the document declares for one input: a query parameter or a
/// top-level property of a JSON request body.
struct EnumInput {
    method: Method,
    path: String,
    field: String,
    in_body: bool,
    values: Vec<String>,
    /// The request body's example (or `{}`), which the field is set into.
    base: Value,
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).expect("every $ref resolves"),
        None => schema,
    }
}

/// The enum values of a schema: `{enum}`, a `$ref` to one, or `oneOf`/`anyOf`/
/// `type: [.., "null"]` around one.
fn enum_values(doc: &Value, schema: &Value) -> Option<Vec<String>> {
    let schema = resolve(doc, schema);
    if let Some(values) = schema["enum"].as_array() {
        return Some(
            values
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
        );
    }
    ["oneOf", "anyOf"]
        .iter()
        .filter_map(|k| schema[*k].as_array())
        .flatten()
        .find_map(|s| enum_values(doc, s))
}

fn concrete(path: &str) -> String {
    let mut out = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if segment.starts_with('{') {
            out.push_str(&uuid::Uuid::now_v7().to_string());
        } else {
            out.push_str(segment);
        }
    }
    out
}

fn enum_inputs(doc: &Value) -> Vec<EnumInput> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            for param in op["parameters"].as_array().into_iter().flatten() {
                let param = resolve(doc, param);
                if param["in"] != "query" {
                    continue;
                }
                if let Some(values) = enum_values(doc, &param["schema"]) {
                    out.push(EnumInput {
                        method: method.clone(),
                        path: path.clone(),
                        field: param["name"].as_str().unwrap().into(),
                        in_body: false,
                        values,
                        base: json!({}),
                    });
                }
            }
            let body = &op["requestBody"]["content"]["application/json"];
            let schema = resolve(doc, &body["schema"]);
            let base = body["example"].clone();
            let base = if base.is_object() {
                base
            } else if schema["example"].is_object() {
                schema["example"].clone()
            } else {
                json!({})
            };
            for (field, property) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(values) = enum_values(doc, property) {
                    out.push(EnumInput {
                        method: method.clone(),
                        path: path.clone(),
                        field: field.clone(),
                        in_body: true,
                        values,
                        base: base.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Whether the server refused the value of `input.field` (and not something else).
async fn refuses(app: &TestApp, input: &EnumInput, value: &str) -> bool {
    let concrete_path = concrete(&input.path);
    let request = if input.in_body {
        let mut body = input.base.clone();
        body[&input.field] = json!(value);
        app.request(input.method.clone(), &concrete_path)
            .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
            .json(&body)
    } else {
        app.request(
            input.method.clone(),
            &format!("{concrete_path}?{}={value}", input.field),
        )
    };
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(
        status.as_u16() < 500,
        "{} {} with {}={value}: {status} {body}",
        input.method,
        input.path,
        input.field
    );
    let named_in_errors = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["field"] == input.field.as_str());
    let detail = body["detail"].as_str().unwrap_or_default();
    match status {
        StatusCode::UNPROCESSABLE_ENTITY => named_in_errors,
        StatusCode::BAD_REQUEST => {
            detail.contains(&format!("`{value}`"))
                || detail.contains(&format!("{}={value:?}", input.field))
                || detail.contains(&format!("{}=", input.field))
        }
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_enum_of_the_document_is_what_the_server_accepts() {
    let app = TestApp::sqlite().await;
    let doc = json_of(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let inputs = enum_inputs(&doc);
    assert!(inputs.len() > 20, "only {} enum inputs found", inputs.len());
    for input in &inputs {
        for value in &input.values {
            assert!(
                !refuses(&app, input, value).await,
                "{} {}: the document lists {}={value:?} but the server refuses it",
                input.method,
                input.path,
                input.field
            );
        }
        assert!(
            refuses(&app, input, UNLISTED).await,
            "{} {}: {}={UNLISTED:?} is not in the document but the server does not refuse it",
            input.method,
            input.path,
            input.field
        );
    }
}

db_test!(
    a_nul_character_anywhere_is_refused_naming_where_it_is,
    |app| {
        let cases = [
            (
                "/v1/contacts",
                json!({"first_name": "a\u{0}b"}),
                "first_name",
            ),
            (
                "/v1/contacts",
                json!({"first_name": "Ana", "custom_fields": {"note": "x\u{0}"}}),
                "custom_fields.note",
            ),
            (
                "/v1/contacts",
                json!({"first_name": "Ana", "tags": ["ok", "b\u{0}d"]}),
                "tags[1]",
            ),
            ("/v1/accounts", json!({"name": "\u{0}"}), "name"),
            (
                "/v1/feedback",
                json!({"kind": "complaint", "text": "bad\u{0}"}),
                "text",
            ),
        ];
        for (path, body, field) in cases {
            let p = problem(
                app.post(path, &body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(p["errors"][0]["field"], field, "{path}: {p}");
        }
        let p = problem(
            app.get("/v1/contacts?q=ana%00").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("`q`"), "{p}");
        let csv = app
            .request(Method::POST, "/v1/contacts/import")
            .header("content-type", "text/csv")
            .body("email,first_name\nana@acme.example,An\0a\n")
            .send()
            .await
            .unwrap();
        let p = problem(csv, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["errors"][0]["field"], "line 2");
        // An import over the JSON limit passes the middleware unread; the
        // import checks it itself.
        // 9,000 rows of about 150 bytes: over the 1 MiB JSON limit.
        let clean: String = std::iter::once("email,first_name,title\n".to_string())
            .chain((0..9_000).map(|i| {
                format!(
                    "row{i}@acme.example,Ana,{}\n",
                    "Head of Research ".repeat(7)
                )
            }))
            .collect();
        assert!(clean.len() > 1024 * 1024);
        let import = |body: String| {
            app.request(Method::POST, "/v1/contacts/import")
                .header("content-type", "text/csv")
                .body(body)
                .send()
        };
        let large = import(format!("{clean}last@acme.example,An\0a,x\n"))
            .await
            .unwrap();
        let p = problem(large, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["errors"][0]["field"], "line 9002");
        let listed = json_of(app.get("/v1/contacts").await, StatusCode::OK).await;
        assert_eq!(listed["data"], json!([]), "nothing was written");
        // Without the NUL, the same large body reaches the import whole.
        let imported = import(clean).await.unwrap();
        assert_eq!(json_of(imported, StatusCode::OK).await["created"], 9_000);
    }
);

db_test!(
    instants_outside_the_years_1900_to_9999_are_a_400_not_a_crash,
    |app| {
        for query in [
            "/v1/metrics/satisfaction?from=-262143-01-01T00:00:00Z&to=-262143-01-01T00:00:00Z",
            "/v1/metrics/service-levels?from=1899-12-31T00:00:00Z",
            "/v1/metrics/channels?to=%2B262142-12-31T23:59:59Z",
            "/v1/contacts?updated_since=-0001-01-01T00:00:00Z",
        ] {
            let p = problem(app.get(query).await, StatusCode::BAD_REQUEST).await;
            assert!(
                p["detail"].as_str().unwrap().contains("1900"),
                "{query}: {p}"
            );
        }
        let p = problem(
            app.post(
                "/v1/feedback",
                &json!({"kind": "complaint", "received_at": "+10000-01-01T00:00:00Z"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("9999"), "{p}");
        // The edges of the range are accepted.
        for query in [
            "/v1/metrics/satisfaction?from=1900-01-01T00:00:00Z&to=1900-02-01T00:00:00Z",
            "/v1/metrics/satisfaction?from=9999-11-01T00:00:00Z&to=9999-12-31T23:59:59Z",
        ] {
            json_of(app.get(query).await, StatusCode::OK).await;
        }
        // A period over five years is refused, so one call's work stays bounded.
        let p = problem(
            app.get("/v1/metrics/channels?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z")
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("five years"), "{p}");
    }
);

/// Asserts a 503 problem that tells the client when to retry.
async fn unavailable(response: reqwest::Response) {
    let retry_after = header(&response, "retry-after");
    problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        retry_after.is_some_and(|s| s.parse::<u64>().is_ok()),
        "a 503 says when to retry"
    );
}

/// Retries until the server answers `expected` again (it reconnects by itself).
async fn recovers(app: &TestApp, expected: StatusCode) {
    for _ in 0..100 {
        if app.get("/v1/accounts").await.status() == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the server did not recover");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_while_another_process_locks_the_sqlite_file_gets_503_and_then_succeeds() {
    use sqlx::{Connection, Executor};
    let app = TestApp::sqlite().await;
    let mut other = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .unwrap();
    other.execute("BEGIN EXCLUSIVE").await.unwrap();
    unavailable(app.post("/v1/accounts", &json!({"name": "Acme"})).await).await;
    other.execute("ROLLBACK").await.unwrap();
    json_of(
        app.post("/v1/accounts", &json!({"name": "Acme"})).await,
        StatusCode::CREATED,
    )
    .await;
}

/// A TCP relay to PostgreSQL that the test can cut, as a network failure or a
/// database restart would.
struct Relay {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    async fn to(upstream: String) -> Relay {
        use std::sync::{
            Arc, Mutex,
            atomic::{AtomicBool, Ordering},
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (cut_flag, link_list) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if cut_flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                link_list.lock().unwrap().push(task.abort_handle());
            }
        });
        Relay { port, cut, links }
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_out_of_reach_gets_503_on_reads_and_writes_and_the_server_recovers() {
    let Some(url) = fresh_postgres_url().await else {
        return;
    };
    let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
    let host_port = authority.rsplit('@').next().unwrap().to_string();
    let relay = Relay::to(host_port.clone()).await;
    let relayed = url.replacen(&host_port, &format!("127.0.0.1:{}", relay.port), 1);
    let app = TestApp::start(&relayed).await;
    json_of(app.get("/v1/accounts").await, StatusCode::OK).await;
    relay.cut();
    unavailable(app.get("/v1/accounts").await).await;
    unavailable(app.post("/v1/accounts", &json!({"name": "Acme"})).await).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    relay.restore();
    recovers(&app, StatusCode::OK).await;
    json_of(
        app.post("/v1/accounts", &json!({"name": "Acme"})).await,
        StatusCode::CREATED,
    )
    .await;
}

/// The scope one step below `scope` (`x:write` → `x:read`), or another area's
/// read scope for `x:read`: a key holding it must be refused.
fn scope_below(scope: &str) -> String {
    let (area, level) = scope.split_once(':').unwrap();
    match level {
        "manage" => format!("{area}:write"),
        "write" => format!("{area}:read"),
        _ if area == "metrics" => "accounts:read".into(),
        _ => "metrics:read".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_each_operation_declares_is_the_access_it_checks() {
    let app = TestApp::sqlite().await;
    let doc = json_of(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let mut keys = std::collections::HashMap::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(scope) = op["security"][0]["bearer"][0].as_str() else {
                continue;
            };
            let method: Method = method.to_uppercase().parse().unwrap();
            let (content_type, body) = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.iter().next())
                .map(|(t, b)| (t.clone(), b.clone()))
                .unwrap_or_default();
            let example = if body["example"].is_object() {
                body["example"].clone()
            } else {
                resolve(&doc, &body["schema"])["example"].clone()
            };
            let granted: Vec<String> = if scope == "admin" {
                vec![]
            } else {
                vec![scope.to_string()]
            };
            let refused = if scope == "admin" {
                "contacts:manage".to_string()
            } else {
                scope_below(scope)
            };
            for (held, may) in [(granted, true), (vec![refused], false)] {
                if held.is_empty() {
                    continue; // no key reaches admin operations
                }
                let key = match keys.get(&held) {
                    Some(k) => k,
                    None => {
                        let names: Vec<&str> = held.iter().map(String::as_str).collect();
                        let k = app.api_key(&names).await;
                        keys.entry(held.clone()).or_insert(k)
                    }
                };
                let mut request = app.request_as(key, method.clone(), &concrete(path));
                if example.is_object() {
                    request = request
                        .header("content-type", &content_type)
                        .body(example.to_string());
                }
                let status = request.send().await.unwrap().status();
                assert!(status.as_u16() < 500, "{method} {path}: {status}");
                assert_eq!(
                    status == StatusCode::FORBIDDEN,
                    !may,
                    "{method} {path} declares {scope}; a key with {held:?} got {status}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} checks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_that_runs_past_the_timeout_is_cancelled_with_503() {
    use sqlx::{Connection, Executor};
    let Some(url) = fresh_postgres_url().await else {
        return;
    };
    let app = TestApp::start(&url).await;
    let mut settings = rapport::config::Settings::for_tests(&url);
    settings.statement_timeout = Some(std::time::Duration::from_millis(300));
    settings.clock = app.clock.clone();
    let node = rapport::app::start(settings)
        .await
        .expect("a node with a short timeout");
    let handle = node.server.handle();
    tokio::spawn(node.server);
    let metrics = format!("http://127.0.0.1:{}/v1/metrics/satisfaction", node.port);
    // Another session holds the feedback table, so the metrics query waits on it.
    let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
    other
        .execute("BEGIN; LOCK TABLE feedback IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    unavailable(
        app.client
            .get(&metrics)
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    other.execute("ROLLBACK").await.unwrap();
    let answered = app
        .client
        .get(&metrics)
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), StatusCode::OK);
    handle.stop(false).await;
}
