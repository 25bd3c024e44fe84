use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use uuid::Uuid;

use super::{Area, Level, Role, api_key_check, role_allows, scopes_allow};
use crate::{http::error::ApiError, state::AppState};

pub const API_KEY_PREFIX: &str = "rpk_";

/// The authenticated caller: a staff user (by access token) or a partner
/// system (by API key).
#[derive(Clone, Debug)]
pub enum Principal {
    User { id: Uuid, role: Role },
    ApiKey { id: Uuid, scopes: Vec<String> },
}

impl Principal {
    /// Fails with 403 unless the caller may act at `level` in `area`.
    pub fn require(&self, area: Area, level: Level) -> Result<(), ApiError> {
        let allowed = match self {
            Principal::User { role, .. } => role_allows(*role, area, level),
            Principal::ApiKey { scopes, .. } => scopes_allow(scopes, area, level),
        };
        if allowed {
            return Ok(());
        }
        Err(match self {
            Principal::User { role, .. } => ApiError::forbidden(format!(
                "Your role ({}) cannot {} {}.",
                role.as_str(),
                verb(level),
                area.as_str().replace('_', " ")
            )),
            Principal::ApiKey { .. } => ApiError::forbidden(format!(
                "This API key lacks the scope {}:{}.",
                area.as_str(),
                level.scope_word()
            )),
        })
    }

    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Principal::User {
                role: Role::Admin,
                ..
            }
        )
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Principal::User { id, .. } => Some(*id),
            Principal::ApiKey { .. } => None,
        }
    }

    /// Viewers see emails and phone numbers masked.
    pub fn masks_personal_data(&self) -> bool {
        matches!(
            self,
            Principal::User {
                role: Role::Viewer,
                ..
            }
        )
    }

    /// `("user", id)` or `("api_key", id)`, as written in the audit log.
    pub fn actor(&self) -> (&'static str, Uuid) {
        match self {
            Principal::User { id, .. } => ("user", *id),
            Principal::ApiKey { id, .. } => ("api_key", *id),
        }
    }

    /// The namespace of this caller's idempotency keys.
    pub fn scope_key(&self) -> String {
        let (kind, id) = self.actor();
        format!("{kind}:{id}")
    }
}

fn verb(level: Level) -> &'static str {
    match level {
        Level::Read => "read",
        Level::Write => "change",
        Level::Manage => "delete, merge, import or erase",
        Level::Admin => "administer",
    }
}

/// Authenticates a request from its `Authorization` header.
pub async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<Principal, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "Send `Authorization: Bearer <token>` with an access token from POST /v1/auth/token or an API key.",
        ));
    };
    let text = value.to_str().unwrap_or("");
    let Some(credential) = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
    else {
        return Err(ApiError::invalid_token(
            "the Authorization header must use the Bearer scheme",
        ));
    };
    let credential = credential.trim();
    if credential.starts_with(API_KEY_PREFIX) {
        return api_key_check::check(&state.db, credential).await;
    }
    let claims = state
        .jwt
        .verify(credential)
        .map_err(ApiError::invalid_token)?;
    let standing = state
        .standings
        .get(&state.db, claims.sub, claims.ver)
        .await?;
    Ok(Principal::User {
        id: claims.sub,
        role: super::standing::role_for(standing, claims.ver)?,
    })
}

/// Why the request's credential was refused, kept for the handler to answer.
#[derive(Clone)]
struct Refused(ApiError);

/// Middleware: authenticates a request that carries `Authorization` once, up
/// front, so the rate limiter knows whose quota it counts against and every
/// later layer (idempotency, the handler) reads the result instead of
/// checking the credential again.
pub async fn identify(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let Some(state) = state.filter(|_| req.headers().contains_key(header::AUTHORIZATION)) {
        match authenticate(&state, req.request()).await {
            Ok(principal) => {
                req.extensions_mut().insert(principal);
            }
            Err(err) => {
                req.extensions_mut().insert(Refused(err));
            }
        }
    }
    next.call(req).await
}

impl FromRequest for Principal {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        use actix_web::HttpMessage;
        let req = req.clone();
        Box::pin(async move {
            let known = {
                let extensions = req.extensions();
                match (extensions.get::<Principal>(), extensions.get::<Refused>()) {
                    (Some(principal), _) => Some(Ok(principal.clone())),
                    (None, Some(refused)) => Some(Err(refused.0.clone())),
                    (None, None) => None,
                }
            };
            if let Some(known) = known {
                return Ok(known?);
            }
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("AppState missing"))?;
            Ok(authenticate(state, &req).await?)
        })
    }
}
