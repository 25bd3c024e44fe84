//! Wiring: the routes, the middleware, start-up and the HTTP server.

use std::{net::TcpListener, sync::Arc};

use chrono::{DateTime, TimeDelta, Utc};

use actix_cors::Cors;
use actix_web::{
    App, HttpServer,
    dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse},
    http::header,
    middleware::from_fn,
    web,
};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope, service_config::ServiceConfig};
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    accounts, api_keys, audit, auth,
    auth::secret,
    bootstrap, channels,
    clock::Clock,
    config::Settings,
    contacts,
    db::Db,
    engagements, events, feedback,
    http::{
        fallback::not_matched,
        idempotency::{idempotency, purge_expired},
        json::{JSON_LIMIT, json_config, path_error, query_error},
        nul::refuse_nul,
        observe::{Metrics, observe},
        operations::RouteTable,
        rate_limit::{Limiter, limit_rate},
    },
    insights, interactions, loyalty,
    openapi::ApiDoc,
    ops, preferences, segments,
    state::AppState,
    tasks, timeline, transactions, users, webhooks,
};

/// Every route of the API. Each module registers its own handlers here with
/// `.service(...)`, which also puts them in the OpenAPI document.
pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/v1")
            .configure(auth::routes::configure)
            .configure(users::routes::configure)
            .configure(api_keys::routes::configure)
            .configure(audit::routes::configure)
            .configure(accounts::routes::configure)
            .configure(contacts::routes::configure)
            .configure(channels::routes::configure)
            .configure(interactions::routes::configure)
            .configure(feedback::routes::configure)
            .configure(engagements::routes::configure)
            .configure(transactions::routes::configure)
            .configure(tasks::routes::configure)
            .configure(insights::configure)
            .configure(segments::routes::configure)
            .configure(preferences::routes::configure)
            .configure(timeline::routes::configure)
            .configure(loyalty::routes::configure)
            .configure(events::routes::configure)
            .configure(webhooks::routes::configure),
    )
    .configure(ops::configure);
}

/// The OpenAPI document, built from the registered handlers without a server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(register)
        .split_for_parts();
    crate::openapi::finish(api, &crate::modules::registry())
}

/// What every worker shares.
#[derive(Clone)]
pub struct Shared {
    pub state: web::Data<AppState>,
    pub metrics: web::Data<Metrics>,
    pub routes: web::Data<RouteTable>,
    pub limiter: web::Data<Limiter>,
    pub openapi: Arc<utoipa::openapi::OpenApi>,
}

impl Shared {
    pub fn new(state: AppState) -> Self {
        let openapi = openapi();
        Self {
            routes: web::Data::new(RouteTable::from_openapi(&openapi)),
            limiter: web::Data::new(Limiter::new(state.settings.rate_limits)),
            state: web::Data::new(state),
            metrics: web::Data::new(Metrics::new()),
            openapi: Arc::new(openapi),
        }
    }
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("ratelimit"),
            header::HeaderName::from_static("ratelimit-policy"),
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// The application for one worker.
pub fn build_app(
    shared: Shared,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let openapi = (*shared.openapi).clone();
    let workers = shared.state.settings.workers;
    let state = web::Data::new(AppState {
        db: shared.state.db.for_worker(workers),
        ..(**shared.state).clone()
    });
    App::new()
        .app_data(state)
        .app_data(shared.metrics.clone())
        .app_data(shared.routes.clone())
        .app_data(shared.limiter.clone())
        .app_data(json_config())
        .app_data(web::PayloadConfig::new(JSON_LIMIT))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .configure(|cfg| register(&mut ServiceConfig::new(cfg)))
        .service(web::redirect("/docs", "/docs/"))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi))
        .default_service(web::to(not_matched))
        .wrap(from_fn(idempotency))
        .wrap(from_fn(refuse_nul))
        .wrap(from_fn(limit_rate))
        .wrap(from_fn(auth::principal::identify))
        .wrap(cors(&shared.state.settings.cors_origins))
        .wrap(from_fn(observe))
        .wrap(from_fn(with_clock))
}

/// Runs the request with the server's clock as the one `now()` reads.
async fn with_clock(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let clock = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.settings.clock.clone())
        .unwrap_or_default();
    clock.scope(next.call(req)).await
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] crate::db::ConnectError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("start-up failed: {0}")]
    Setup(String),
}

/// A server that is bound and running in the background.
pub struct Running {
    pub port: u16,
    pub server: Server,
    pub db: Db,
}

/// Opens and migrates the database, makes sure an admin exists, binds the
/// listener and starts serving. Binding happens here, so a caller (or a test)
/// learns the port before the first request.
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    let clock = settings.clock.clone();
    clock.scope(start_in_clock(settings)).await
}

async fn start_in_clock(settings: Settings) -> Result<Running, StartError> {
    // Migrations run on a connection of their own, free of the API's
    // statement timeout: building an index on a large table takes longer.
    let migrator = Db::connect(&settings.database_url, 1).await?;
    migrator.migrate().await?;
    crate::insights::activity::build_if_needed(&migrator)
        .await
        .map_err(|e| StartError::Setup(format!("cannot build the customer activity: {e}")))?;
    migrator.close().await;
    let db = Db::connect_with(
        &settings.database_url,
        settings.db_max_connections,
        settings.statement_timeout,
    )
    .await?;
    bootstrap::ensure_admin(&db, &settings)
        .await
        .map_err(|e| StartError::Setup(e.to_string()))?;
    let jwt_secret = secret::load_or_create(&db, settings.jwt_secret.as_deref())
        .await
        .map_err(|e| StartError::Setup(format!("cannot load the JWT secret: {e}")))?;
    crate::http::pagination::use_cursor_secret(&jwt_secret);
    let listener = TcpListener::bind(settings.listen).map_err(|source| StartError::Listen {
        addr: settings.listen,
        source,
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| StartError::Setup(e.to_string()))?
        .port();
    let workers = settings.workers;
    let state = AppState {
        db: db.clone(),
        jwt: auth::tokens::JwtKeys::new(&jwt_secret),
        settings,
        standings: std::sync::Arc::default(),
        hooks: crate::modules::registry(),
    };
    let shared_clock = state.settings.clock.clone();
    let settings_for_jobs = state.settings.clone();
    let shared = Shared::new(state);
    spawn_forgetting_idle_callers(shared.limiter.clone());
    let server = HttpServer::new(move || build_app(shared.clone()))
        .workers(workers)
        .shutdown_timeout(30)
        .listen(listener)
        .map_err(|source| StartError::Listen {
            addr: std::net::SocketAddr::from(([0, 0, 0, 0], port)),
            source,
        })?
        .run();
    spawn_event_jobs(db.clone(), shared_clock.clone(), &settings_for_jobs);
    spawn_housekeeping(db.clone(), shared_clock);
    Ok(Running { port, server, db })
}

/// Keeps the rate limiter's memory to the callers of the last minute.
fn spawn_forgetting_idle_callers(limiter: web::Data<Limiter>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.forget_idle();
        }
    });
}

/// The jobs behind events, every `jobs_interval`: service levels that went
/// at risk or were breached become events (and follow-up tasks), the task
/// rules create what they owe, customer insights follow the changes (and
/// are all recomputed hourly), webhook deliveries move, and
/// hourly the events past their retention go.
/// Safe on any number of nodes (see `webhooks::worker`).
fn spawn_event_jobs(db: Db, clock: Clock, settings: &Settings) {
    let deliverer = webhooks::worker::Deliverer::new(
        db.clone(),
        settings.webhook_timeout,
        settings.webhook_allow_private_urls,
    );
    let interval = settings.jobs_interval;
    let retention = TimeDelta::from_std(settings.event_retention).unwrap_or(TimeDelta::MAX);
    tokio::spawn(clock.scope(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pruned_at: Option<DateTime<Utc>> = None;
        let mut rules_read = tasks::rules::RuleCursor::default();
        let mut insights_read = insights::refresh::ChangeCursor::starting_now();
        loop {
            tick.tick().await;
            if let Err(err) = feedback::events::emit_due(&db).await {
                tracing::warn!(%err, "could not emit service-level events");
            }
            if let Err(err) = tasks::rules::create_due(&db, &mut rules_read).await {
                tracing::warn!(%err, "could not create the tasks the rules owe");
            }
            if let Err(err) = insights::refresh::keep_current(&db, &mut insights_read).await {
                tracing::warn!(%err, "could not keep customer insights current");
            }
            if let Err(err) = deliverer.tick().await {
                tracing::warn!(%err, "could not move webhook deliveries");
            }
            // Hourly by the server's clock (tests move it forward), after the
            // dispatcher: only dispatched events are removed.
            let now = crate::db::now();
            if pruned_at.is_none_or(|at| now - at >= TimeDelta::hours(1)) {
                match events::feed::prune(&db, now - retention).await {
                    Ok(_) => pruned_at = Some(now),
                    Err(err) => tracing::warn!(%err, "could not prune old events"),
                }
            }
        }
    }));
}

/// Periodic clean-up: expired idempotency records, forgotten sign-in
/// failures; expired loyalty points.
fn spawn_housekeeping(db: Db, clock: Clock) {
    tokio::spawn(clock.scope(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(err) = purge_expired(&db).await {
                tracing::warn!(%err, "could not purge idempotency keys");
            }
            if let Err(err) = auth::sign_in_throttle::purge_forgotten(&db).await {
                tracing::warn!(%err, "could not purge sign-in failures");
            }
            // Safe on several nodes at once: a lot is expired once whoever runs it.
            match loyalty::expire_due_points(&db).await {
                Ok(report) if report.lots > 0 => tracing::info!(?report, "expired loyalty points"),
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, "could not expire loyalty points"),
            }
        }
    }));
}
