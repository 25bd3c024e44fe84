//! An endpoint's deliveries: follow them, retry one, send a test event.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::{
    TEST,
    model::{Delivery, DeliveryFilter},
    repo::{self, deliveries},
    routes::admin,
};
use crate::{
    audit::Actor,
    auth::Principal,
    events,
    http::{ApiError, ApiResult, Page, PageParams, pagination::page_from, responses::*},
    state::AppState,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(send_test)
        .service(list_deliveries)
        .service(get_delivery)
        .service(retry_delivery);
}

/// Send a test event
///
/// Queues a `webhook.test` event for this endpoint alone (even a disabled one's test waits until it is enabled) and
/// returns its delivery; follow it at `GET …/deliveries/{delivery_id}`.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id.")),
    responses(
        (status = 202, description = "The test delivery, pending.", body = Delivery),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[post("/webhook-endpoints/{id}/test")]
async fn send_test(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    admin(&principal)?;
    let (actor, id) = (Actor::new(&principal, &req), *id);
    let (endpoint, delivery_id) = state
        .db
        .write(|db| async move {
            let mut tx = db.begin().await?;
            let endpoint = repo::get(&mut tx, id).await?;
            let data = serde_json::json!({
                "endpoint_id": endpoint.id,
                "message": "A test event from Rapport: if its signature verifies, the endpoint is set up.",
            });
            let event_id = events::record(&mut tx, &actor, &TEST, None, &data).await?;
            let delivery_id = deliveries::insert(&mut tx, endpoint.id, event_id).await?;
            tx.commit().await?;
            Ok::<_, ApiError>((endpoint, delivery_id))
        })
        .await?;
    let delivery = deliveries::get(&state.db, endpoint.id, delivery_id)
        .await?
        .into_delivery(vec![]);
    Ok(HttpResponse::Accepted().json(delivery))
}

/// List an endpoint's deliveries
///
/// Newest first, each with its attempts (status code, duration, error) and, while pending, when the next is due.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id."), DeliveryFilter),
    responses(
        (status = 200, description = "A page of deliveries.", body = Page<Delivery>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/webhook-endpoints/{id}/deliveries")]
async fn list_deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    filter: web::Query<DeliveryFilter>,
) -> ApiResult<web::Json<Page<Delivery>>> {
    admin(&principal)?;
    repo::get(&state.db, *id).await?;
    let page = PageParams {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    };
    let limit = page.limit()?;
    let rows =
        deliveries::list(&state.db, *id, filter.status, page.cursor::<Uuid>()?, limit).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let attempts = deliveries::attempts_of(&state.db, &ids).await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| r.id,
        |r| {
            let of = attempts.get(&r.id).cloned().unwrap_or_default();
            r.into_delivery(of)
        },
    )))
}

/// Get a delivery
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "The endpoint's id."),
        ("delivery_id" = Uuid, Path, description = "The delivery's id."),
    ),
    responses(
        (status = 200, description = "The delivery with its attempts.", body = Delivery),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/webhook-endpoints/{id}/deliveries/{delivery_id}")]
async fn get_delivery(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<Delivery>> {
    admin(&principal)?;
    let (endpoint, id) = path.into_inner();
    Ok(web::Json(delivery(&state, endpoint, id).await?))
}

async fn delivery(state: &AppState, endpoint: Uuid, id: Uuid) -> Result<Delivery, ApiError> {
    let row = deliveries::get(&state.db, endpoint, id).await?;
    let mut attempts = deliveries::attempts_of(&state.db, &[id]).await?;
    Ok(row.into_delivery(attempts.remove(&id).unwrap_or_default()))
}

/// Retry a delivery
///
/// Makes the delivery due now, whatever its state (a failed one gets one more attempt; a succeeded one is sent
/// again with the same `webhook-id`).
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "The endpoint's id."),
        ("delivery_id" = Uuid, Path, description = "The delivery's id."),
    ),
    responses(
        (status = 202, description = "The delivery, due now.", body = Delivery),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[post("/webhook-endpoints/{id}/deliveries/{delivery_id}/retry")]
async fn retry_delivery(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    admin(&principal)?;
    let (endpoint, id) = path.into_inner();
    state
        .db
        .write(|db| async move { deliveries::retry(&db, endpoint, id).await })
        .await?;
    Ok(HttpResponse::Accepted().json(delivery(&state, endpoint, id).await?))
}
