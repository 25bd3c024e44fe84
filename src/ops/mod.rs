//! Operations endpoints: liveness, readiness, metrics.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use sha2::Digest;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    http::{
        ApiError, ApiResult,
        observe::Metrics,
        responses::{Unauthorized, Unavailable},
    },
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
/// Prometheus text format. Open by default (expose it only to your monitoring
/// network); when the server has `RAPPORT_METRICS_TOKEN`, send
/// `Authorization: Bearer <that token>` (user tokens and API keys do not work here).
#[utoipa::path(
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Metrics in the Prometheus text format.", body = String, content_type = "text/plain"),
        (status = 401, response = Unauthorized),
    )
)]
#[get("/metrics")]
async fn metrics(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    req: actix_web::HttpRequest,
) -> ApiResult<HttpResponse> {
    if let Some(expected) = &state.settings.metrics_token {
        let sent = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // Digests compare in constant time with respect to the token.
        let digest = |text: &str| sha2::Sha256::digest(text.as_bytes());
        if digest(sent) != digest(expected) {
            return Err(ApiError::unauthorized(
                "This server protects /metrics: send `Authorization: Bearer <RAPPORT_METRICS_TOKEN>`.",
            ));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render()))
}
