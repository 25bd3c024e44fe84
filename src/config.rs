//! Settings read from the environment (`RAPPORT_*`), each with a default that
//! lets a fresh install run with no configuration at all.

use std::{env, net::SocketAddr, time::Duration};

use crate::clock::Clock;

/// The shortest `RAPPORT_JWT_SECRET` accepted: 256 bits, the size of HS256's hash.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    pub listen: SocketAddr,
    pub jwt_secret: Option<String>,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    pub cors_origins: Vec<String>,
    pub log_filter: String,
    pub log_json: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Connections per pool (PostgreSQL) or readers (SQLite, which has one writer).
    pub db_max_connections: u32,
    pub workers: usize,
    /// How long one SQL statement of an API request may run before it is
    /// cancelled (503); `None` for no limit. PostgreSQL only: SQLite has no
    /// statement timeout (its lock waits are bounded by the busy timeout).
    pub statement_timeout: Option<Duration>,
    /// The clock every request and job reads (the system clock outside tests).
    pub clock: Clock,
    /// Requests per minute per credential and per client address.
    pub rate_limits: RateLimits,
    /// Whether the client's address is the last one in `X-Forwarded-For`
    /// (set it behind one reverse proxy that appends it), not the peer's.
    pub trust_proxy: bool,
    /// When set, `GET /metrics` needs `Authorization: Bearer <this token>`.
    pub metrics_token: Option<String>,
    /// How long events stay in the feed (and can still be delivered).
    pub event_retention: Duration,
    /// How often the background jobs look for work: webhook deliveries due,
    /// service levels that went at risk or were breached.
    pub jobs_interval: Duration,
    /// How long a webhook receiver has to answer one delivery.
    pub webhook_timeout: Duration,
    /// Whether webhook URLs may point at loopback, private and link-local
    /// addresses (a development setting: in production they would let an
    /// admin's URL reach the server's own network).
    pub webhook_allow_private_urls: bool,
}

/// How many requests a caller may make per minute on one node; `None` for no
/// limit. Sign-ins are also throttled per account and address through the
/// database (see `auth::sign_in_throttle`), whatever these say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Per access token's user or per API key.
    pub per_credential: Option<u32>,
    /// Per client address, for requests without a valid credential (sign-in, refresh).
    pub per_address: Option<u32>,
}

/// The default `RAPPORT_RATE_LIMIT_PER_MINUTE`: 100 requests a second, sustained.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 6_000;
/// The default `RAPPORT_RATE_LIMIT_ANONYMOUS_PER_MINUTE`.
pub const DEFAULT_ANONYMOUS_RATE_LIMIT_PER_MINUTE: u32 = 120;

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| env::var(name).ok().filter(|v| !v.trim().is_empty());
        let listen_text = var("RAPPORT_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text.parse().map_err(|_| {
            ConfigError(format!(
                "RAPPORT_LISTEN={listen_text:?} is not an address such as 127.0.0.1:8080"
            ))
        })?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let jwt_secret = var("RAPPORT_JWT_SECRET");
        if jwt_secret
            .as_ref()
            .is_some_and(|s| s.len() < MIN_JWT_SECRET_BYTES)
        {
            return Err(ConfigError(format!(
                "RAPPORT_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes (HS256 is only as strong as its key); \
                 leave it unset to have one generated and kept in the database"
            )));
        }
        let admin_password = var("RAPPORT_ADMIN_PASSWORD");
        if let Some(problem) = admin_password
            .as_deref()
            .and_then(crate::auth::password::password_problem)
        {
            return Err(ConfigError(format!("RAPPORT_ADMIN_PASSWORD {problem}")));
        }
        Ok(Self {
            database_url: var("RAPPORT_DATABASE_URL")
                .unwrap_or_else(|| "sqlite://rapport.db".into()),
            listen,
            jwt_secret,
            admin_email: var("RAPPORT_ADMIN_EMAIL"),
            admin_password,
            cors_origins: var("RAPPORT_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            log_filter: var("RAPPORT_LOG").unwrap_or_else(|| "info".into()),
            log_json: var("RAPPORT_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            db_max_connections: parse_number(
                "RAPPORT_DB_MAX_CONNECTIONS",
                var("RAPPORT_DB_MAX_CONNECTIONS"),
                32,
            )?,
            workers: parse_number("RAPPORT_WORKERS", var("RAPPORT_WORKERS"), cores as u32)?
                as usize,
            statement_timeout: parse_millis(
                "RAPPORT_STATEMENT_TIMEOUT_MS",
                var("RAPPORT_STATEMENT_TIMEOUT_MS"),
                DEFAULT_STATEMENT_TIMEOUT_MS,
            )?,
            clock: Clock::system(),
            rate_limits: RateLimits {
                per_credential: parse_limit(
                    "RAPPORT_RATE_LIMIT_PER_MINUTE",
                    var("RAPPORT_RATE_LIMIT_PER_MINUTE"),
                    DEFAULT_RATE_LIMIT_PER_MINUTE,
                )?,
                per_address: parse_limit(
                    "RAPPORT_RATE_LIMIT_ANONYMOUS_PER_MINUTE",
                    var("RAPPORT_RATE_LIMIT_ANONYMOUS_PER_MINUTE"),
                    DEFAULT_ANONYMOUS_RATE_LIMIT_PER_MINUTE,
                )?,
            },
            trust_proxy: var("RAPPORT_TRUST_PROXY").is_some_and(|v| v == "true" || v == "1"),
            metrics_token: var("RAPPORT_METRICS_TOKEN"),
            event_retention: Duration::from_secs(
                86_400
                    * u64::from(parse_number(
                        "RAPPORT_EVENT_RETENTION_DAYS",
                        var("RAPPORT_EVENT_RETENTION_DAYS"),
                        30,
                    )?),
            ),
            jobs_interval: Duration::from_millis(u64::from(parse_number(
                "RAPPORT_JOBS_INTERVAL_MS",
                var("RAPPORT_JOBS_INTERVAL_MS"),
                1_000,
            )?)),
            webhook_timeout: Duration::from_millis(u64::from(parse_number(
                "RAPPORT_WEBHOOK_TIMEOUT_MS",
                var("RAPPORT_WEBHOOK_TIMEOUT_MS"),
                10_000,
            )?)),
            webhook_allow_private_urls: var("RAPPORT_WEBHOOK_ALLOW_PRIVATE_URLS")
                .is_some_and(|v| v == "true" || v == "1"),
        })
    }

    /// Settings for tests: everything default except the database.
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_string(),
            listen: "127.0.0.1:0".parse().expect("literal address"),
            jwt_secret: None,
            admin_email: None,
            admin_password: None,
            cors_origins: vec![],
            log_filter: "warn".into(),
            log_json: false,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            db_max_connections: 8,
            workers: 2,
            statement_timeout: Some(Duration::from_millis(DEFAULT_STATEMENT_TIMEOUT_MS)),
            clock: Clock::system(),
            // Tests make hundreds of calls a second with one token; the rate
            // limit tests set their own.
            rate_limits: RateLimits {
                per_credential: None,
                per_address: None,
            },
            trust_proxy: false,
            metrics_token: None,
            event_retention: Duration::from_secs(30 * 86_400),
            // Tests wait for deliveries; a short tick keeps them quick.
            jobs_interval: Duration::from_millis(100),
            webhook_timeout: Duration::from_secs(2),
            webhook_allow_private_urls: true,
        }
    }
}

/// Requests per minute, where 0 means no limit.
fn parse_limit(
    name: &str,
    value: Option<String>,
    default: u32,
) -> Result<Option<u32>, ConfigError> {
    let limit = match value {
        None => default,
        Some(v) => v.parse::<u32>().map_err(|_| {
            ConfigError(format!(
                "{name}={v:?} is not a whole number of requests per minute (0 for no limit)"
            ))
        })?,
    };
    Ok((limit > 0).then_some(limit))
}

/// The default `RAPPORT_STATEMENT_TIMEOUT_MS`.
pub const DEFAULT_STATEMENT_TIMEOUT_MS: u64 = 5_000;

/// Milliseconds, where 0 means no limit.
fn parse_millis(
    name: &str,
    value: Option<String>,
    default: u64,
) -> Result<Option<Duration>, ConfigError> {
    let millis = match value {
        None => default,
        Some(v) => v.parse::<u64>().map_err(|_| {
            ConfigError(format!(
                "{name}={v:?} is not a whole number of milliseconds (0 for no limit)"
            ))
        })?,
    };
    Ok((millis > 0).then(|| Duration::from_millis(millis)))
}

fn parse_number(name: &str, value: Option<String>, default: u32) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConfigError(format!("{name}={v:?} is not a positive whole number"))),
    }
}
