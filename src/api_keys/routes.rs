use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::{
    audit::{self, Actor, Change},
    auth::{Area, Level, Principal, random_hex, random_token, tokens::hash_secret, valid_scopes},
    db::{new_id, now},
    http::idempotency::holds_secret,
    http::{
        ApiError, ApiResult, Page, PageParams, ValidatedJson, created, pagination::page_from,
        responses::*,
    },
    on_db, on_tx,
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_api_keys)
        .service(create_api_key)
        .service(get_api_key)
        .service(revoke_api_key);
}

/// An API key. The secret itself is shown only once, when the key is created.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
#[schema(example = json!({
    "id": "01937c60-1111-7000-8000-000000000001", "name": "Survey platform", "prefix": "rpk_3f9a1c2b7d4e",
    "scopes": ["feedback:write", "contacts:read"], "created_at": "2026-11-02T09:30:00Z",
    "expires_at": null, "last_used_at": "2026-11-03T14:00:00Z", "revoked_at": null
}))]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// The start of the key, to recognise it in lists and logs.
    pub prefix: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Json<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new API key, with its secret: store it now, it is never shown again.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c60-1111-7000-8000-000000000001", "name": "Survey platform", "prefix": "rpk_3f9a1c2b7d4e",
    "scopes": ["feedback:write", "contacts:read"], "created_at": "2026-11-02T09:30:00Z",
    "expires_at": null, "last_used_at": null, "revoked_at": null,
    "key": "rpk_3f9a1c2b7d4e_kq8Zr2mV0yTQ1c5wXoP3nB7sLh4uJ9eA6dGfR2tYiWk"
}))]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// Send as `Authorization: Bearer <key>`.
    pub key: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Survey platform", "scopes": ["feedback:write", "contacts:read"]}))]
pub struct ApiKeyIn {
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    /// `<area>:read`, `<area>:write` (an agent's reach: create and edit) or
    /// `<area>:manage` (a manager's: delete, merge, import, erase, person
    /// export, loyalty adjust/reverse/cancel); each implies the ones before it.
    /// Areas: accounts, contacts, channels, interactions, feedback, metrics,
    /// loyalty, audit.
    #[validate(length(min = 1, max = 32))]
    pub scopes: Vec<String>,
    /// When the key stops working; never when absent.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub expires_at: Option<DateTime<Utc>>,
}

// The table stores the prefix without `rpk_` (the part key checks look up);
// clients see it as the key starts, as documented.
const COLUMNS: &str = "id, name, 'rpk_' || prefix AS prefix, scopes, created_at, expires_at, last_used_at, revoked_at";

/// List API keys
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "api-keys",
    params(PageParams),
    responses(
        (status = 200, description = "A page of API keys (without secrets).", body = Page<ApiKey>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/api-keys")]
async fn list_api_keys(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<ApiKey>>> {
    principal.require(Area::ApiKeys, Level::Admin)?;
    let limit = page.limit()?;
    let after: Option<Uuid> = page.cursor()?;
    let rows: Vec<ApiKey> = on_db!(&state.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
    ))).bind(after).bind(limit + 1).fetch_all(pool).await)?;
    Ok(web::Json(page_from(rows, limit, |r| r.id, |r| r)))
}

/// Create an API key
///
/// The response holds the key's secret, once; only its hash is stored.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "api-keys",
    request_body = ApiKeyIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The key, with its secret.", body = CreatedApiKey, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/api-keys")]
async fn create_api_key(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: ValidatedJson<ApiKeyIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::ApiKeys, Level::Admin)?;
    let input = body.0;
    let allowed = valid_scopes();
    if let Some(bad) = input.scopes.iter().find(|s| !allowed.contains(s)) {
        return Err(ApiError::field(
            "scopes",
            "unknown_scope",
            format!("{bad:?} is not a scope; use one of: {}", allowed.join(", ")),
        ));
    }
    let created_by = principal
        .user_id()
        .ok_or_else(|| ApiError::forbidden("Only users create API keys."))?;
    let prefix = format!("rpk_{}", random_hex(6));
    let key = format!("{prefix}_{}", random_token(32));
    let now = now();
    let id = new_id();
    let secret_prefix = prefix.trim_start_matches("rpk_").to_string();
    let secret_hash = hash_secret(&key);
    // The key and its audit event commit together (with the request's
    // Idempotency-Key, when it has one).
    let actor = Actor::new(&principal, &req);
    let api_key = state
        .db
        .write(|db| async move {
            let mut tx = db.begin().await?;
            let api_key: ApiKey = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO api_keys (id, name, prefix, secret_hash, scopes, created_by, created_at, updated_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING {COLUMNS}"
            ))).bind(id).bind(input.name.trim()).bind(secret_prefix).bind(secret_hash)
               .bind(Json(&input.scopes)).bind(created_by).bind(now).bind(input.expires_at).fetch_one(&mut **c).await)?;
            audit::record(&mut tx, &actor, "create", "api_key", id, Change::created(&api_key)).await?;
            tx.commit().await?;
            Ok::<_, ApiError>(api_key)
        })
        .await?;
    // The secret is shown here once: a retry with the same Idempotency-Key
    // is told so instead of receiving it again.
    Ok(holds_secret(created(
        format!("/v1/api-keys/{id}"),
        None,
        CreatedApiKey { api_key, key },
    )))
}

/// Get an API key
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "api-keys",
    params(("id" = Uuid, Path, description = "The key's id.")),
    responses(
        (status = 200, description = "The key (without its secret).", body = ApiKey),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/api-keys/{id}")]
async fn get_api_key(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ApiKey>> {
    principal.require(Area::ApiKeys, Level::Admin)?;
    let row: Option<ApiKey> = on_db!(&state.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE id = $1"
    ))).bind(*id).fetch_optional(pool).await)?;
    Ok(web::Json(
        row.ok_or_else(|| ApiError::not_found("API key", *id))?,
    ))
}

/// Revoke an API key
///
/// The key stops working at once; it stays listed, with `revoked_at` set.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "api-keys",
    params(("id" = Uuid, Path, description = "The key's id.")),
    responses(
        (status = 204, description = "The key is revoked."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[delete("/api-keys/{id}")]
async fn revoke_api_key(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::ApiKeys, Level::Admin)?;
    let now = now();
    let (actor, id) = (Actor::new(&principal, &req), *id);
    state
        .db
        .write(|db| async move {
            let mut tx = db.begin().await?;
            let found = on_tx!(&mut tx, c => sqlx::query(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1), updated_at = $1 WHERE id = $2"
            ).bind(now).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            if found == 0 {
                return Err(ApiError::not_found("API key", id));
            }
            audit::record(&mut tx, &actor, "revoke", "api_key", id, Change::none()).await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
