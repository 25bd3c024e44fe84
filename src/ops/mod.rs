//! Operations endpoints: liveness, readiness, metrics.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    http::{ApiError, ApiResult, observe::Metrics, responses::Unavailable},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// Liveness
///
/// Answers 200 while the process runs; it does not touch the database.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "The process is up.", body = Health)))]
#[get("/healthz")]
async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness
///
/// Answers 200 when the database answers, 503 otherwise. The server recovers
/// by itself once the database is back.
#[utoipa::path(
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Ready to serve.", body = Health),
        (status = 503, response = Unavailable),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> ApiResult<web::Json<Health>> {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping()).await;
    match ping {
        Ok(Ok(())) => Ok(web::Json(Health { status: "ok" })),
        Ok(Err(err)) => {
            tracing::warn!(%err, "readiness check failed");
            Err(ApiError::service_unavailable(
                "The database is not reachable.",
            ))
        }
        Err(_) => Err(ApiError::service_unavailable(
            "The database did not answer within 2 seconds.",
        )),
    }
}

/// Prometheus metrics
///
/// Request counts and latency histograms by route and status, in the
/// Prometheus text format. Unauthenticated: expose it only to your monitoring
/// network.
#[utoipa::path(
    tag = "operations",
    security(()),
    responses((status = 200, description = "Metrics in the Prometheus text format.", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}
