//! The `rapport` command line: migrate, users create, openapi, configuration
//! errors, and the first start with no configuration at all.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use reqwest::StatusCode;

use crate::common::TempDir;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_rapport");
const PASSWORD: &str = "a-password-for-cli-tests";
/// Generous: a debug build migrating a fresh database on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// `rapport` in `dir` with no `RAPPORT_*` variables from the outer environment.
fn rapport(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir).stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("RAPPORT_") {
            command.env_remove(name);
        }
    }
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("rapport runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// A failed run: non-zero, an explanation on stderr, and no panic.
fn assert_clean_failure(output: &Output) -> String {
    let err = stderr(output);
    assert!(
        !output.status.success(),
        "expected a failure; stdout: {}",
        stdout(output)
    );
    assert!(!err.trim().is_empty(), "nothing on stderr");
    assert!(!err.contains("panicked"), "it panicked: {err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
    err
}

fn create_user(dir: &TempDir, email: &str, role: &str) -> Output {
    run(rapport(dir.path())
        .env("RAPPORT_DATABASE_URL", dir.sqlite_url())
        .env("RAPPORT_USER_PASSWORD", PASSWORD)
        .args(["users", "create", "--email", email, "--role", role]))
}

/// A running `rapport` server, killed when dropped. Its stdout is read on a
/// thread and handed over line by line.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every stdout line seen so far.
    seen: Vec<String>,
    port: u16,
}

impl Server {
    /// Starts `rapport` (serving) on a port the OS picks and waits for its
    /// "listening" line.
    fn start(mut command: Command) -> Server {
        let mut child = command
            .env("RAPPORT_LISTEN", "127.0.0.1:0")
            .env("RAPPORT_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rapport starts");
        let out = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            lines,
            seen: Vec::new(),
            port: 0,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while server.port == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match server.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => panic!(
                    "rapport did not report listening in time; stdout: {:?}",
                    server.seen
                ),
            };
            if let Some(rest) = line.strip_prefix("Rapport listening on http://") {
                let address = rest.split('/').next().unwrap_or("");
                server.port = address
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                assert_ne!(server.port, 0, "no port in {line:?}");
            }
            server.seen.push(line);
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn sign_in(&self, email: &str, password: &str) -> StatusCode {
        reqwest::Client::new()
            .post(self.url("/v1/auth/token"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request sent")
            .status()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn migrate_creates_and_migrates_a_sqlite_database() {
    let dir = TempDir::new("rapport-cli");
    let output = run(rapport(dir.path())
        .env("RAPPORT_DATABASE_URL", dir.sqlite_url())
        .arg("migrate"));
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(dir.path().join("rapport.db").exists());
    // Migrating again is a no-op.
    let again = run(rapport(dir.path())
        .env("RAPPORT_DATABASE_URL", dir.sqlite_url())
        .arg("migrate"));
    assert!(again.status.success(), "stderr: {}", stderr(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_created_on_the_command_line_can_sign_in() {
    let dir = TempDir::new("rapport-cli");
    let output = create_user(&dir, "e@x.test", "agent");
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(stdout(&output).contains("e@x.test"), "{}", stdout(&output));

    let server = Server::start({
        let mut c = rapport(dir.path());
        c.env("RAPPORT_DATABASE_URL", dir.sqlite_url());
        c
    });
    assert_eq!(server.sign_in("e@x.test", PASSWORD).await, StatusCode::OK);
    assert_eq!(
        server.sign_in("e@x.test", "not-the-password").await,
        StatusCode::UNAUTHORIZED
    );
    // Users exist already, so no admin was made up.
    assert!(
        !server.seen.iter().any(|l| l.contains("password")),
        "{:?}",
        server.seen
    );
    let token: Value = reqwest::Client::new()
        .post(server.url("/v1/auth/token"))
        .json(&json!({"email": "e@x.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me: Value = reqwest::Client::new()
        .get(server.url("/v1/me"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "agent");
}

#[test]
fn creating_the_same_email_twice_fails() {
    let dir = TempDir::new("rapport-cli");
    assert!(create_user(&dir, "twice@x.test", "viewer").status.success());
    let err = assert_clean_failure(&create_user(&dir, "TWICE@x.test", "agent"));
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn the_password_can_come_from_stdin() {
    let dir = TempDir::new("rapport-cli");
    let mut child = rapport(dir.path())
        .env("RAPPORT_DATABASE_URL", dir.sqlite_url())
        .args([
            "users",
            "create",
            "--email",
            "stdin@x.test",
            "--role",
            "manager",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "stderr: {}", stderr(&output));
}

/// A freshly created PostgreSQL schema, or `None` when
/// `RAPPORT_TEST_POSTGRES_URL` is not set.
async fn fresh_postgres_database() -> Option<String> {
    crate::common::fresh_postgres_url().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_users_create_work_on_postgres() {
    let Some(url) = fresh_postgres_database().await else {
        return;
    };
    let dir = TempDir::new("rapport-cli");
    let output = run(rapport(dir.path())
        .env("RAPPORT_DATABASE_URL", &url)
        .arg("migrate"));
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let create = |email: &str| {
        run(rapport(dir.path())
            .env("RAPPORT_DATABASE_URL", &url)
            .env("RAPPORT_USER_PASSWORD", PASSWORD)
            .args(["users", "create", "--email", email, "--role", "agent"]))
    };
    let output = create("pg@x.test");
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert_clean_failure(&create("PG@x.test"));
    let server = Server::start({
        let mut c = rapport(dir.path());
        c.env("RAPPORT_DATABASE_URL", &url);
        c
    });
    assert_eq!(server.sign_in("pg@x.test", PASSWORD).await, StatusCode::OK);
    assert!(
        !dir.path().join("rapport.db").exists(),
        "it fell back to SQLite"
    );
}

#[test]
fn an_unknown_role_fails_with_a_one_line_message() {
    let dir = TempDir::new("rapport-cli");
    let output = create_user(&dir, "boss@x.test", "overlord");
    let err = assert_clean_failure(&output);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("overlord") && err.contains("role"), "{err}");
}

#[test]
fn a_short_password_is_refused() {
    let dir = TempDir::new("rapport-cli");
    let output = run(rapport(dir.path())
        .env("RAPPORT_DATABASE_URL", dir.sqlite_url())
        .env("RAPPORT_USER_PASSWORD", "short")
        .args([
            "users",
            "create",
            "--email",
            "short@x.test",
            "--role",
            "agent",
        ]));
    let err = assert_clean_failure(&output);
    assert!(err.contains("password"), "{err}");
}

#[test]
fn missing_or_unknown_options_are_explained() {
    let dir = TempDir::new("rapport-cli");
    for args in [
        vec!["users", "create", "--role", "agent"],
        vec!["users", "create", "--email", "a@x.test", "--role"],
        vec![
            "users", "create", "--email", "a@x.test", "--role", "agent", "--colour", "blue",
        ],
        vec!["frobnicate"],
    ] {
        let output = run(rapport(dir.path())
            .env("RAPPORT_DATABASE_URL", dir.sqlite_url())
            .env("RAPPORT_USER_PASSWORD", PASSWORD)
            .args(&args));
        let err = assert_clean_failure(&output);
        assert!(err.contains("usage"), "{args:?}: {err}");
    }
}

#[test]
fn an_unsupported_database_url_names_the_variable() {
    let dir = TempDir::new("rapport-cli");
    for args in [vec!["migrate"], vec![]] {
        let output = run(rapport(dir.path())
            .env("RAPPORT_DATABASE_URL", "mysql://x")
            .env("RAPPORT_LISTEN", "127.0.0.1:0")
            .args(&args));
        let err = assert_clean_failure(&output);
        assert!(err.contains("RAPPORT_DATABASE_URL"), "{args:?}: {err}");
    }
    assert!(!dir.path().join("rapport.db").exists());
}

#[test]
fn a_bad_listen_address_names_the_variable() {
    let dir = TempDir::new("rapport-cli");
    let output = run(rapport(dir.path()).env("RAPPORT_LISTEN", "localhost-ish"));
    let err = assert_clean_failure(&output);
    assert!(err.contains("RAPPORT_LISTEN"), "{err}");
}

#[test]
fn openapi_prints_the_document() {
    let dir = TempDir::new("rapport-cli");
    let output = run(rapport(dir.path()).arg("openapi"));
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("the output is JSON");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert!(doc["paths"]["/v1/users"].is_object());
    // It needs no database.
    assert!(!dir.path().join("rapport.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_creates_rapport_db_and_prints_an_admin_password_once() {
    let dir = TempDir::new("rapport-cli");
    let first = Server::start(rapport(dir.path()));
    assert!(
        dir.path().join("rapport.db").exists(),
        "no rapport.db in {}",
        dir.path().display()
    );
    let password = first
        .seen
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("password:")
                .map(|p| p.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no password line in {:?}", first.seen));
    assert!(password.len() >= 12, "{password:?}");
    let admin = first
        .seen
        .iter()
        .find_map(|l| {
            l.strip_prefix("Created the first admin:")
                .map(|e| e.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no admin line in {:?}", first.seen));
    assert_eq!(first.sign_in(&admin, &password).await, StatusCode::OK);
    drop(first);

    let second = Server::start(rapport(dir.path()));
    assert!(
        !second.seen.iter().any(|l| l.contains("password")),
        "printed again: {:?}",
        second.seen
    );
    assert_eq!(
        second.sign_in(&admin, &password).await,
        StatusCode::OK,
        "the first admin still signs in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_admin_password_is_never_printed() {
    let dir = TempDir::new("rapport-cli");
    let server = Server::start({
        let mut c = rapport(dir.path());
        c.env("RAPPORT_ADMIN_EMAIL", "boss@x.test")
            .env("RAPPORT_ADMIN_PASSWORD", PASSWORD);
        c
    });
    assert!(
        !server.seen.iter().any(|l| l.contains(PASSWORD)),
        "{:?}",
        server.seen
    );
    assert_eq!(
        server.sign_in("boss@x.test", PASSWORD).await,
        StatusCode::OK
    );
}

#[test]
fn a_short_jwt_secret_or_a_weak_admin_password_stops_the_start() {
    let dir = TempDir::new("rapport-cli");
    for (name, value, words) in [
        ("RAPPORT_JWT_SECRET", "too-short-a-secret", "32 bytes"),
        ("RAPPORT_ADMIN_PASSWORD", "short", "RAPPORT_ADMIN_PASSWORD"),
    ] {
        let output = run(rapport(dir.path())
            .env("RAPPORT_DATABASE_URL", dir.sqlite_url())
            .env(name, value)
            .arg("migrate"));
        let err = assert_clean_failure(&output);
        assert!(err.contains(words), "{name}: {err}");
    }
}
