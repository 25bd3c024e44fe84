use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::{
    Principal,
    password::{self, decoy_hash},
    refresh::{self, Rotation},
    sign_in_throttle::{self, Subjects},
};
use crate::{
    db::{new_id, now},
    http::{ApiError, ApiResult, ValidatedJson, rate_limit::client_address, responses::*},
    state::AppState,
    users::{
        model::{User, UserRow},
        repo as users,
    },
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(issue_token)
        .service(refresh_access_token)
        .service(logout)
        .service(me);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "admin@localhost", "password": "the password printed at first start"}))]
pub struct TokenRequest {
    #[validate(length(min = 1, max = 254))]
    pub email: String,
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "rrt_Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg"}))]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 200))]
    pub refresh_token: String,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "rrt_Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg"}))]
pub struct LogoutRequest {
    /// The refresh token to revoke (with every token rotated from it). Without
    /// it, every refresh token of the caller is revoked (sign out everywhere).
    #[validate(length(min = 1, max = 200))]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTkzN2M1ZSJ9.c2lnbmF0dXJl",
    "token_type": "Bearer", "expires_in": 900,
    "refresh_token": "rrt_Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg"
}))]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires (15 minutes).
    pub expires_in: i64,
    /// Exchange at `/v1/auth/refresh` for a new pair; single use, valid 30 days.
    pub refresh_token: String,
}

/// The token pair for a user as read when their credentials were checked: a
/// change that moved their token version on since then makes this access
/// token refused at once.
fn tokens_for(state: &AppState, user: &UserRow, refresh_token: String) -> TokenResponse {
    let ttl = state.settings.access_token_ttl.as_secs() as i64;
    TokenResponse {
        access_token: state
            .jwt
            .issue(user.id, user.role(), user.token_version, now(), ttl),
        token_type: "Bearer".into(),
        expires_in: ttl,
        refresh_token,
    }
}

fn refresh_ttl(state: &AppState) -> Duration {
    Duration::seconds(state.settings.refresh_token_ttl.as_secs() as i64)
}

/// Sign in
///
/// Exchanges a user's email and password for a short-lived access token (a
/// JWT, 15 minutes) and a refresh token (30 days, single use).
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    security(()),
    responses(
        (status = 200, description = "Signed in.", body = TokenResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/auth/token")]
async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<TokenRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let TokenRequest { email, password } = body.0;
    let subjects = Subjects::new(&email, client_address(&req, state.settings.trust_proxy));
    // A blocked account or address is refused before any hashing.
    let had_failures = sign_in_throttle::check(&state.db, &subjects).await?;
    let row = users::find_by_email(&state.db, &email).await?;
    let phc = row
        .as_ref()
        .map_or_else(|| decoy_hash().to_string(), |r| r.password_hash.clone());
    let verified = password::verify(password, phc).await?;
    let user = match row {
        Some(row) if verified && row.active => row,
        _ => {
            state
                .db
                .write(|db| async move { sign_in_throttle::record_failure(&db, &subjects).await })
                .await?;
            return Err(ApiError::unauthorized(
                "The email or password is not correct, or the user is inactive.",
            ));
        }
    };
    if had_failures {
        state
            .db
            .write(|db| async move { sign_in_throttle::clear_account(&db, &subjects).await })
            .await?;
    }
    let (user_id, ttl) = (user.id, refresh_ttl(&state));
    let refresh_token = state
        .db
        .write(|db| async move {
            let mut tx = db.begin().await?;
            let token = refresh::issue(&mut tx, user_id, new_id(), ttl).await?;
            tx.commit().await?;
            Ok::<_, ApiError>(token)
        })
        .await?;
    Ok(web::Json(tokens_for(&state, &user, refresh_token)))
}

/// Refresh the access token
///
/// Exchanges a refresh token for a new access token and a new refresh token.
/// Each refresh token works once: presenting a used one again revokes every
/// token of that sign-in.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    security(()),
    responses(
        (status = 200, description = "A new token pair.", body = TokenResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/auth/refresh")]
async fn refresh_access_token(
    state: web::Data<AppState>,
    body: ValidatedJson<RefreshRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let (presented, ttl) = (body.0.refresh_token, refresh_ttl(&state));
    let rotation = state
        .db
        .write(|db| async move { refresh::rotate(&db, &presented, ttl).await })
        .await?;
    let (user_id, token) = match rotation {
        Rotation::Rotated { user_id, token } => (user_id, token),
        Rotation::Refused(why) => return Err(ApiError::invalid_token(why)),
    };
    let user = users::get(&state.db, user_id)
        .await
        .map_err(|_| ApiError::invalid_token("the user no longer exists"))?;
    if !user.active {
        return Err(ApiError::invalid_token("the user is inactive"));
    }
    Ok(web::Json(tokens_for(&state, &user, token)))
}

/// Sign out
///
/// Revokes the given refresh token's sign-in, or every sign-in of the caller
/// when no token is given. Access tokens already issued stay valid until they
/// expire (at most 15 minutes).
#[utoipa::path(
    tag = "auth",
    request_body(content = LogoutRequest, description = "Optional."),
    responses(
        (status = 204, description = "Signed out."),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[post("/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let Some(user_id) = principal.user_id() else {
        return Err(ApiError::forbidden(
            "API keys do not sign in; revoke the key at /v1/api-keys instead.",
        ));
    };
    let request: LogoutRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("The body is not valid: {e}.")))?
    };
    state
        .db
        .write(|db| async move {
            match request.refresh_token {
                Some(token) => refresh::revoke(&db, &token, user_id).await.map(|_| ()),
                None => refresh::revoke_all(&db, user_id).await,
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I
///
/// The signed-in user. Called with an API key, it describes the key instead.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller.", body = Me),
        (status = 401, response = Unauthorized),
    )
)]
#[get("/me")]
async fn me(state: web::Data<AppState>, principal: Principal) -> ApiResult<web::Json<Me>> {
    Ok(web::Json(match principal {
        Principal::User { id, .. } => Me::User(users::get(&state.db, id).await?.into_user()),
        Principal::ApiKey { id, scopes } => Me::ApiKey { id, scopes },
    }))
}

/// The caller: a user, or an API key with its scopes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Me {
    User(User),
    ApiKey { id: uuid::Uuid, scopes: Vec<String> },
}
