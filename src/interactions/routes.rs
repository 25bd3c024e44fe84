use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    model::{
        Direction, Interaction, InteractionFilter, InteractionIn, InteractionPatch,
        InteractionType, Purpose,
    },
    repo::{self, DEFAULT_SORT, ListQuery, SORTS},
    rules,
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    db::now,
    http::{
        ApiResult, Page, PageParams, created,
        etag::expected_version,
        ok_versioned,
        pagination::{Sort, page_from, time_key},
        responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_interactions)
        .service(create_interaction)
        .service(get_interaction)
        .service(update_interaction)
        .service(delete_interaction);
}

/// List interactions
///
/// Newest first by `occurred_at` (then id), keyset-paginated; `sort=occurred_at`
/// for oldest first. Filters combine with AND; `from` is inclusive, `to`
/// exclusive.
#[utoipa::path(
    security(("bearer" = ["interactions:read"])),
    tag = "interactions",
    params(InteractionFilter),
    responses(
        (status = 200, description = "A page of interactions.", body = Page<Interaction>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/interactions")]
async fn list_interactions(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<InteractionFilter>,
) -> ApiResult<web::Json<Page<Interaction>>> {
    principal.require(Area::Interactions, Level::Read)?;
    let f = filter.into_inner();
    let page = PageParams {
        limit: f.limit,
        cursor: f.cursor,
    };
    let limit = page.limit()?;
    let query = ListQuery {
        contact_id: f.contact_id,
        account_id: f.account_id,
        channel_id: f.channel_id,
        direction: f
            .direction
            .as_deref()
            .map(|v| Direction::from_query("direction", v))
            .transpose()?,
        interaction_type: f
            .interaction_type
            .as_deref()
            .map(|v| InteractionType::from_query("type", v))
            .transpose()?,
        purpose: f
            .purpose
            .as_deref()
            .map(|v| Purpose::from_query("purpose", v))
            .transpose()?,
        from: f.from,
        to: f.to,
        handled_by: f.handled_by,
        engagement_id: f.engagement_id,
    };
    let sort = Sort::parse(f.sort.as_deref(), &SORTS, DEFAULT_SORT)?;
    let rows = repo::list(&state.db, &query, &sort, page.cursor()?, limit).await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| sort.cursor_for(time_key(&r.occurred_at), r.id),
        |r| r.into_interaction(),
    )))
}

/// Log an interaction
///
/// Give `contact_id`, `account_id` or both; with only a contact, the
/// contact's account is filled in. References that do not exist (or were
/// deleted) are a 422 naming the field. An outbound `marketing` interaction
/// with a contact is refused with 409 (`rule`: `marketing_consent` or
/// `weekly_marketing_cap`), and nothing is written, unless the consent in
/// force when it occurred is granted for the channel's kind and the contact's
/// weekly cap is not reached. Other purposes, and inbound touches, are always
/// allowed.
#[utoipa::path(
    security(("bearer" = ["interactions:write"])),
    tag = "interactions",
    request_body = InteractionIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The interaction was logged.", body = Interaction,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/interactions")]
async fn create_interaction(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<InteractionIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Interactions, Level::Write)?;
    let (new, changed) = rules::new_interaction(body.into_inner(), now(), principal.user_id())?;
    let actor = Actor::new(&principal, &req);
    let interaction = state
        .db
        .write(|db| async move { repo::create(&db, &actor, new, changed).await })
        .await?;
    Ok(created(
        format!("/v1/interactions/{}", interaction.id),
        Some(interaction.version),
        interaction,
    ))
}

/// Get an interaction
#[utoipa::path(
    security(("bearer" = ["interactions:read"])),
    tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    responses(
        (status = 200, description = "The interaction.", body = Interaction, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/interactions/{id}")]
async fn get_interaction(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Interactions, Level::Read)?;
    let interaction = repo::get(&state.db, *id).await?.into_interaction();
    Ok(ok_versioned(interaction.version, interaction))
}

/// Update an interaction
///
/// JSON merge patch; `null` clears an optional field. The result obeys the
/// same rules as a new interaction: moving it to another contact without
/// `account_id` fills in that contact's account, and turning it into (or
/// moving) an outbound marketing touch checks consent and the weekly cap (409).
#[utoipa::path(
    security(("bearer" = ["interactions:write"])),
    tag = "interactions",
    request_body(content = InteractionPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The interaction's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read; the change is refused with 412 if the interaction changed since."),
    ),
    responses(
        (status = 200, description = "The updated interaction.", body = Interaction, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/interactions/{id}")]
async fn update_interaction(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<InteractionPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Interactions, Level::Write)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    let input = body.into_inner();
    let interaction = state
        .db
        .write(|db| async move { repo::update(&db, &actor, id, expected, input).await })
        .await?;
    Ok(ok_versioned(interaction.version, interaction))
}

/// Delete an interaction
///
/// Managers and admins. Removes the record for good (the audit log keeps that
/// it existed); to hide a contact's personal text, erase the contact instead.
#[utoipa::path(
    security(("bearer" = ["interactions:manage"])),
    tag = "interactions",
    params(
        ("id" = Uuid, Path, description = "The interaction's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The interaction was deleted."),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/interactions/{id}")]
async fn delete_interaction(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Interactions, Level::Manage)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
