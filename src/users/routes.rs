use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    model::{User, UserIn, UserPatch},
    repo::{self, NewUser},
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    http::{
        ApiResult, Page, PageParams, ValidatedJson, created, etag::expected_version, ok_versioned,
        pagination::page_from, responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(update_user)
        .service(delete_user);
}

/// List users
///
/// Admins only. Users in creation order, keyset-paginated.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "users",
    params(PageParams),
    responses(
        (status = 200, description = "A page of users.", body = Page<User>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<User>>> {
    principal.require(Area::Users, Level::Admin)?;
    let limit = page.limit()?;
    let rows = repo::list(&state.db, page.cursor::<Uuid>()?, limit).await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| r.id,
        |r| r.into_user(),
    )))
}

/// Create a user
///
/// Admins only. The password is stored as an Argon2id hash.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "users",
    request_body = UserIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The user was created.", body = User,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/users")]
async fn create_user(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: ValidatedJson<UserIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Users, Level::Admin)?;
    let input = body.0;
    let actor = Actor::new(&principal, &req);
    let row = state
        .db
        .write(|db| async move {
            let user = NewUser {
                email: &input.email,
                display_name: &input.display_name,
                role: input.role,
                password: &input.password,
                active: input.active.unwrap_or(true),
            };
            repo::create(&db, &actor, user).await
        })
        .await?;
    let user = row.into_user();
    Ok(created(
        format!("/v1/users/{}", user.id),
        Some(user.version),
        user,
    ))
}

/// Get a user
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "users",
    params(("id" = Uuid, Path, description = "The user's id.")),
    responses(
        (status = 200, description = "The user.", body = User, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/users/{id}")]
async fn get_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Users, Level::Admin)?;
    let user = repo::get(&state.db, *id).await?.into_user();
    Ok(ok_versioned(user.version, user))
}

/// Update a user
///
/// Admins only; JSON merge patch. Demoting or deactivating the last active
/// admin is refused with 409. Changing the password or deactivating a user
/// revokes their refresh tokens.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "users",
    request_body(content = UserPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The user's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read; the change is refused with 412 if the user changed since."),
    ),
    responses(
        (status = 200, description = "The updated user.", body = User, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/users/{id}")]
async fn update_user(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ValidatedJson<UserPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Users, Level::Admin)?;
    let actor = Actor::new(&principal, &req);
    let (id, expected) = (*id, expected_version(&req)?);
    let user = state
        .db
        .write(|db| async move { repo::update(&db, &actor, id, expected, body.0).await })
        .await?
        .into_user();
    state.standings.forget(id);
    Ok(ok_versioned(user.version, user))
}

/// Delete a user
///
/// Admins only. The user can no longer sign in and their refresh tokens are
/// revoked; records they own keep their id. The last active admin cannot be
/// deleted (409).
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "users",
    params(
        ("id" = Uuid, Path, description = "The user's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The user was deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/users/{id}")]
async fn delete_user(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Users, Level::Admin)?;
    let actor = Actor::new(&principal, &req);
    let (id, expected) = (*id, expected_version(&req)?);
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    state.standings.forget(id);
    Ok(HttpResponse::NoContent().finish())
}
