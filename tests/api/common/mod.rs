//! Test harness: every test starts the real server on a random port against a
//! fresh database and talks HTTP to it, as a client would.
//!
//! `db_test!` writes each test twice: against a temporary SQLite file, and
//! against a freshly created PostgreSQL database when
//! `RAPPORT_TEST_POSTGRES_URL` is set (otherwise that half returns at once).

#![allow(dead_code)]

pub mod feedback;
pub mod loyalty;
pub mod receiver;
pub mod records;

use chrono::{DateTime, Utc};
use rapport::{app, clock::Clock, config::Settings};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@rapport.test";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// The day every test server starts on: Monday 1 June 2026, 09:00 UTC. Tests
/// never see the real date, so rules that depend on the day (working days,
/// expiry, periods) give the same answer whenever the suite runs.
pub fn test_epoch() -> DateTime<Utc> {
    "2026-06-01T09:00:00Z".parse().expect("a literal time")
}

/// A second server started by [`TestApp::another_node`].
pub struct Node {
    pub base: String,
    pub handle: actix_web::dev::ServerHandle,
}

impl Node {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

pub struct TestApp {
    /// The server's clock: starts at [`test_epoch`] and runs at real speed;
    /// a test may set or advance it.
    pub clock: Clock,
    pub base: String,
    pub client: Client,
    pub admin_token: String,
    pub database_url: String,
    /// The SQLite file's folder, removed with the app.
    scratch: Option<TempDir>,
}

/// A scratch folder under the system's temp dir, removed when dropped.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).expect("a scratch folder");
        Self(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// A URL for a SQLite database in this folder (its WAL files land here too).
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.0.join("rapport.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[allow(unused_mut)]
            async fn sqlite() {
                let mut $app = $crate::common::TestApp::sqlite().await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[allow(unused_mut)]
            async fn postgres() {
                let Some(mut $app) = $crate::common::TestApp::postgres().await else {
                    return;
                };
                $body
            }
        }
    };
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let scratch = TempDir::new("rapport-test");
        let mut app = Self::start(&scratch.sqlite_url()).await;
        app.scratch = Some(scratch);
        app
    }

    /// A fresh PostgreSQL schema, or `None` when no server is configured.
    pub async fn postgres() -> Option<TestApp> {
        let url = fresh_postgres_url().await?;
        Some(Self::start(&url).await)
    }

    pub async fn start(database_url: &str) -> TestApp {
        let mut settings = Settings::for_tests(database_url);
        settings.admin_email = Some(ADMIN_EMAIL.into());
        settings.admin_password = Some(ADMIN_PASSWORD.into());
        settings.cors_origins = vec!["https://app.rapport.test".into()];
        let clock = Clock::starting_at(test_epoch());
        settings.clock = clock.clone();
        let running = app::start(settings).await.expect("the server starts");
        tokio::spawn(running.server);
        let mut app = TestApp {
            clock,
            base: format!("http://127.0.0.1:{}", running.port),
            client: Client::new(),
            admin_token: String::new(),
            database_url: database_url.to_string(),
            scratch: None,
        };
        app.admin_token = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        app
    }

    /// Another server on the same database and clock (a second node), with
    /// its settings changed by `configure`.
    pub async fn another_node(&self, configure: impl FnOnce(&mut Settings)) -> Node {
        let mut settings = Settings::for_tests(&self.database_url);
        settings.clock = self.clock.clone();
        configure(&mut settings);
        let node = app::start(settings).await.expect("the second node starts");
        let handle = node.server.handle();
        tokio::spawn(node.server);
        Node {
            base: format!("http://127.0.0.1:{}", node.port),
            handle,
        }
    }

    /// Moves the server's clock forward and signs the admin in again (their
    /// access token would have expired on the moved clock).
    pub async fn advance_clock(&mut self, by: chrono::TimeDelta) {
        self.clock.advance(by);
        self.admin_token = self.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    }

    /// The time on the server's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// An RFC 3339 time this many hours before the server's now, in whole seconds.
    pub fn hours_ago(&self, hours: f64) -> String {
        let t = self.now() - chrono::Duration::seconds((hours * 3600.0) as i64);
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// An RFC 3339 time `days` after the server's now (negative for the past), whole seconds.
    pub fn days_from_now(&self, days: f64) -> String {
        let t = self.now() + chrono::Duration::seconds((days * 86_400.0) as i64);
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request as the admin.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.admin_token)
    }

    /// A request with the given bearer token.
    pub fn request_as(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.url("/v1/auth/token"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "sign-in as {email} failed"
        );
        response.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates a user with `role` and returns an access token for them.
    pub async fn token_for(&self, role: &str) -> String {
        let email = format!("{role}-{}@rapport.test", uuid::Uuid::now_v7().simple());
        let password = "a-password-for-tests";
        let response = self
            .post(
                "/v1/users",
                &json!({"email": email, "display_name": role, "role": role, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        self.sign_in(&email, password).await
    }

    /// Creates an API key with `scopes` and returns its secret.
    pub async fn api_key(&self, scopes: &[&str]) -> String {
        let response = self
            .post(
                "/v1/api-keys",
                &json!({"name": "test key", "scopes": scopes}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["key"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Reads a JSON body, asserting the status first (with the body in the message).
pub async fn json_of(response: Response, expected: StatusCode) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, expected, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Asserts a problem+json response with `status` and returns its body.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = json_of(response, status).await;
    assert_eq!(content_type, "application/problem+json", "body: {body}");
    assert_eq!(body["status"], status.as_u16(), "body: {body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "no detail: {body}"
    );
    body
}

// ---- Helpers for the foundation tests (auth, users, keys, HTTP conventions) ----

pub const USER_PASSWORD: &str = "a-password-for-tests";

/// A body for `POST /v1/users` (password [`USER_PASSWORD`]).
pub fn new_user(email: &str, role: &str) -> Value {
    json!({"email": email, "display_name": "Someone", "role": role, "password": USER_PASSWORD})
}

impl TestApp {
    /// Signs in and returns the whole token response, asserting 200.
    pub async fn token_pair(&self, email: &str, password: &str) -> Value {
        let response = self
            .client
            .post(self.url("/v1/auth/token"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request sent");
        json_of(response, StatusCode::OK).await
    }

    /// Creates a user with `role` (password [`USER_PASSWORD`]) and returns it.
    pub async fn create_user(&self, role: &str) -> Value {
        let email = format!("{role}-{}@rapport.test", uuid::Uuid::now_v7().simple());
        created(self, "/v1/users", new_user(&email, role)).await
    }

    /// The signed-in admin, as `/v1/me` describes them.
    pub async fn admin(&self) -> Value {
        json_of(self.get("/v1/me").await, StatusCode::OK).await
    }

    /// The JWT signing secret the server keeps in its database.
    /// Runs one SQL statement on the test database, as an operator (or a
    /// crashed node) would leave it.
    pub async fn execute_sql(&self, sql: &str) {
        if self.database_url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.database_url)
                .await
                .expect("open the test database");
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .expect("the statement runs");
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&self.database_url)
                .await
                .expect("open the test database");
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .expect("the statement runs");
            pool.close().await;
        }
    }

    pub async fn stored_jwt_secret(&self) -> String {
        let sql = "SELECT value FROM settings WHERE key = 'jwt_secret'";
        if self.database_url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.database_url)
                .await
                .expect("open the test database");
            let secret = sqlx::query_scalar(sql)
                .fetch_one(&pool)
                .await
                .expect("a stored JWT secret");
            pool.close().await;
            secret
        } else {
            let pool = sqlx::PgPool::connect(&self.database_url)
                .await
                .expect("open the test database");
            let secret = sqlx::query_scalar(sql)
                .fetch_one(&pool)
                .await
                .expect("a stored JWT secret");
            pool.close().await;
            secret
        }
    }
}

/// A response header as text, if present.
pub fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The id of a JSON resource.
pub fn id(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_string()
}

/// `base` with every field of `extra` set on it (a test's changes to a
/// minimal valid body).
pub fn merged(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().expect("an object") {
        base[k] = v.clone();
    }
    base
}

/// POSTs `body` to `path` and returns the created resource (201 expected).
pub async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    json_of(app.post(path, &body).await, StatusCode::CREATED).await
}

/// A URL for a freshly created, empty PostgreSQL schema (`rapport_test_<uuid>`)
/// in the database `RAPPORT_TEST_POSTGRES_URL` names, or `None` when it is not
/// set. A schema per test, not a database: creating and dropping databases
/// forces checkpoints and turns a suite of hundreds of tests into minutes of
/// waiting; `.ci/run` drops the schemas afterwards.
pub async fn fresh_postgres_url() -> Option<String> {
    let base = std::env::var("RAPPORT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let schema = format!("rapport_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("RAPPORT_TEST_POSTGRES_URL={base} is not reachable: {e}"));
    sqlx::Executor::execute(
        &mut admin,
        sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")),
    )
    .await
    .expect("create the test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    Some(format!(
        "{base}{separator}options=-c%20search_path%3D{schema}"
    ))
}
