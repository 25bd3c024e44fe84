//! `Idempotency-Key` for every `POST`.
//!
//! The first request with a key runs and its response (any status below 500)
//! is stored for 24 hours under the caller and the key, with a hash of the
//! request. The key's row commits in the request's own transaction (see
//! `db::claim`): the key, the business write and its audit event commit
//! together or not at all, and a second request racing the first with the
//! same key has its writes rolled back and gets the first one's answer. A retry with the same key and the same request gets that response
//! again (with `Idempotent-Replayed: true`) and writes nothing; the same key
//! with a different request gets 422; a retry while the first is still running
//! gets 409.
//!
//! The caller's rights are checked against the operation's declared access
//! before a key is claimed or replayed, so a user demoted since the first
//! request gets 403, never the stored answer. Public operations (sign-in,
//! refresh) ignore the header, and an answer that holds a secret shown once
//! (a new API key) is never stored: its replay is a 409 saying so, with the
//! `Location` of what was created.

use actix_web::{
    Error, HttpMessage, HttpResponse,
    body::{self, BoxBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{Method, StatusCode, header},
    middleware::Next,
    web,
};
use chrono::Duration;
use sha2::{Digest, Sha256};
use sqlx::types::Json;

use super::{
    body as buffered,
    error::ApiError,
    operations::{Access, RouteTable},
};
use crate::{
    auth::Principal,
    db::{
        Db,
        claim::{self, Claim, State},
        is_unique_violation, now,
        records::{Bind, Record},
    },
    on_db, on_writer,
    state::AppState,
};

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;
/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;
/// Response headers worth replaying.
const KEPT_HEADERS: [header::HeaderName; 3] =
    [header::LOCATION, header::ETAG, header::CONTENT_TYPE];

#[derive(sqlx::FromRow)]
struct Stored {
    request_hash: String,
    status: Option<i64>,
    headers: Option<Json<Vec<(String, String)>>>,
    body: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
}

/// Middleware: a no-op unless the request is a `POST` with the header.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = match req.headers().get(HEADER) {
        Some(value) if req.method() == Method::POST => value.to_str().unwrap_or("").to_string(),
        _ => return next.call(req).await,
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        let err = ApiError::bad_request(format!(
            "The Idempotency-Key header must be 1 to {MAX_KEY_LEN} visible ASCII characters, e.g. a UUID."
        ));
        return Ok(req.error_response(err));
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    // Keys are per caller (identified by `auth::principal::identify`); an
    // unauthenticated request goes on to get its 401.
    let Some(principal) = req.extensions().get::<Principal>().cloned() else {
        return next.call(req).await;
    };
    let operation = req
        .app_data::<web::Data<RouteTable>>()
        .and_then(|table| table.find("POST", req.path()).cloned());
    // Unknown routes get their 404/405, public ones hold secrets in every
    // answer, and a caller without the access gets the handler's 403.
    let Some(operation) =
        operation.filter(|op| op.access != Access::Public && op.access.allows(&principal))
    else {
        return next.call(req).await;
    };

    // Read the body here to hash it (up to what this operation accepts),
    // then hand it on unchanged.
    let bytes = match buffered::buffer(&mut req, operation.body_limit).await {
        Ok(bytes) => bytes,
        Err(api) => return Ok(req.error_response(api)),
    };
    let request_hash = hash_request(req.path(), req.query_string(), &bytes);
    let scope = principal.scope_key();

    match lookup(&state.db, &scope, &key, &request_hash).await {
        Ok(Lookup::Absent) => {}
        Ok(Lookup::Answer(Ok(answer))) => return Ok(answer.into_response(req)),
        Ok(Lookup::Answer(Err(err))) => return Ok(req.error_response(err)),
        Err(err) => return Ok(req.error_response(err)),
    }

    let claim = Claim::new(scope.clone(), key.clone(), request_hash.clone(), now());
    let response = claim::scope(claim.clone(), next.call(req)).await?;
    if claim.state() == State::Lost {
        // Another request with this key committed first; this one's writes
        // were rolled back. Answer as a retry would be answered.
        let (request, _) = response.into_parts();
        return Ok(answer_from_record(&state.db, &scope, &key, &request_hash, request).await);
    }
    let status = response.status();
    if status.is_server_error() && claim.state() == State::Unwritten {
        // Nothing was written: the key stays free for a retry.
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let holds_secret = response.extensions().contains::<ShownOnce>();
    let (head, body) = response.into_parts();
    let body_bytes = body::to_bytes(body).await.unwrap_or_default();
    let mut headers: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            head.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| (name.to_string(), v.to_string()))
        })
        .collect();
    let (stored_status, stored_body) = if holds_secret {
        headers.retain(|(name, _)| name == header::LOCATION.as_str());
        headers.push((
            header::CONTENT_TYPE.to_string(),
            "application/problem+json".into(),
        ));
        let problem = ApiError::conflict(format!(
            "This request succeeded already (status {}); its answer held a secret that is shown only once \
             and was not kept. The `Location` header names what was created.",
            status.as_u16()
        ))
        .to_problem();
        (
            StatusCode::CONFLICT,
            web::Bytes::from(serde_json::to_vec(&problem).unwrap_or_default()),
        )
    } else {
        (status, body_bytes.clone())
    };
    let answer = Answer {
        status: stored_status,
        headers,
        body: String::from_utf8_lossy(&stored_body).into_owned(),
    };
    let stored = state
        .db
        .write(|db| async move {
            match claim.state() {
                State::Written => answer.store(&db, &claim).await.map(|_| true),
                _ => answer.insert(&db, &claim).await,
            }
        })
        .await;
    match stored {
        Ok(true) => {}
        // A request that wrote nothing lost the key to one that did: its
        // answer is the one every retry gets.
        Ok(false) => {
            return Ok(answer_from_record(&state.db, &scope, &key, &request_hash, request).await);
        }
        Err(err) => tracing::error!(%err, "could not store an idempotent response"),
    }
    let response = head.set_body(body_bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(request, response))
}

/// Marks a response that holds a secret shown once (see the module docs).
#[derive(Clone, Copy)]
pub struct ShownOnce;

/// Marks `response` as holding a secret shown once: it is never stored.
pub fn holds_secret(mut response: HttpResponse) -> HttpResponse {
    response.extensions_mut().insert(ShownOnce);
    response
}

fn hash_request(path: &str, query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(path.as_bytes());
    hasher.update(b"?");
    hasher.update(query.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

enum Lookup {
    Absent,
    /// A replay, or a refusal (another request, or still in flight).
    Answer(Result<Answer, ApiError>),
}

/// A stored answer.
struct Answer {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn into_response(self, req: ServiceRequest) -> ServiceResponse<BoxBody> {
        self.respond(req.into_parts().0)
    }

    fn respond(self, request: actix_web::HttpRequest) -> ServiceResponse<BoxBody> {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in self.headers {
            response.insert_header((name, value));
        }
        response.insert_header(("idempotent-replayed", "true"));
        ServiceResponse::new(request, response.body(self.body))
    }

    /// Completes the row the request's transaction wrote, carried by the
    /// next commit on the node (see `db::carried`): a statement in a round
    /// trip that happens anyway, not a transaction of its own.
    async fn store(&self, db: &Db, claim: &Claim) -> Result<(), sqlx::Error> {
        let headers = serde_json::to_value(&self.headers).unwrap_or_default();
        db.write_carried(Record::new(
            "UPDATE idempotency_keys SET status = $1, headers = $2, body = $3 WHERE principal = $4 AND key = $5",
            vec![
                Bind::Int(i64::from(self.status.as_u16())),
                Bind::Json(headers),
                Bind::Text(self.body.clone()),
                Bind::Text(claim.principal.clone()),
                Bind::Text(claim.key.clone()),
            ],
        ))
        .await
    }

    /// Writes the whole row for a request that committed nothing (a refusal,
    /// a write outside a transaction); `false` when the key was taken meanwhile.
    async fn insert(&self, db: &Db, claim: &Claim) -> Result<bool, sqlx::Error> {
        let inserted = on_writer!(db, pool => sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, request_hash, created_at, status, headers, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ).bind(&claim.principal).bind(&claim.key).bind(&claim.request_hash).bind(claim.created_at)
         .bind(self.status.as_u16() as i64).bind(Json(&self.headers)).bind(&self.body)
         .execute(pool).await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => Ok(true),
            Err(err) if is_unique_violation(&err) => Ok(false),
            Err(err) => Err(err),
        }
    }
}

/// What the key's record says: nothing (or an expired record, now deleted),
/// an answer to replay, or a refusal.
async fn lookup(db: &Db, scope: &str, key: &str, request_hash: &str) -> Result<Lookup, ApiError> {
    let stored: Option<Stored> = on_db!(db, pool => sqlx::query_as(
        "SELECT request_hash, status, headers, body, created_at FROM idempotency_keys WHERE principal = $1 AND key = $2"
    ).bind(scope).bind(key).fetch_optional(pool).await)?;
    let Some(stored) = stored else {
        return Ok(Lookup::Absent);
    };
    if stored.created_at < now() - Duration::hours(RETENTION_HOURS) {
        // An expired record gives its key back.
        on_writer!(db, pool => sqlx::query(
            "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND created_at = $3"
        ).bind(scope).bind(key).bind(stored.created_at).execute(pool).await.map(|r| r.rows_affected()))?;
        return Ok(Lookup::Absent);
    }
    if stored.request_hash != request_hash {
        return Ok(Lookup::Answer(Err(ApiError::unprocessable(
            "This Idempotency-Key was already used with a different request. Use a new key for a new request.",
        ))));
    }
    let Some(status) = stored.status else {
        return Ok(Lookup::Answer(Err(still_in_flight())));
    };
    Ok(Lookup::Answer(Ok(Answer {
        status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
        headers: stored.headers.map(|h| h.0).unwrap_or_default(),
        body: stored.body.unwrap_or_default(),
    })))
}

/// The answer a retry gets now, for a request that lost its key to another.
async fn answer_from_record(
    db: &Db,
    scope: &str,
    key: &str,
    request_hash: &str,
    request: actix_web::HttpRequest,
) -> ServiceResponse<BoxBody> {
    use actix_web::ResponseError;
    let refused = |err: ApiError| ServiceResponse::new(request.clone(), err.error_response());
    match lookup(db, scope, key, request_hash).await {
        Ok(Lookup::Answer(Ok(answer))) => answer.respond(request),
        Ok(Lookup::Answer(Err(err))) | Err(err) => refused(err),
        Ok(Lookup::Absent) => refused(still_in_flight()),
    }
}

/// 409 for a retry that arrives while the first request with its key runs.
fn still_in_flight() -> ApiError {
    ApiError::conflict(
        "A request with this Idempotency-Key is still being processed; retry in a moment.",
    )
    .with_header(header::RETRY_AFTER, "1")
}

/// Erasure: deletes the stored answers that mention any of `ids` (a person's
/// contact and member ids), inside the erasure's transaction. A retry of such
/// a request after the erasure runs again instead of replaying personal data.
pub async fn forget_answers_mentioning(
    tx: &mut crate::db::Tx,
    ids: &[uuid::Uuid],
) -> Result<(), ApiError> {
    for id in ids {
        crate::on_tx!(tx, c => sqlx::query("DELETE FROM idempotency_keys WHERE body LIKE $1")
            .bind(format!("%{id}%")).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Deletes records older than the retention period; run periodically.
pub async fn purge_expired(db: &Db) -> Result<u64, sqlx::Error> {
    let cutoff = now() - Duration::hours(RETENTION_HOURS);
    let done = on_writer!(db, pool => sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(cutoff).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(done)
}

/// Whether the loyalty ledger's required key was sent.
pub fn key_of(req: &actix_web::HttpRequest) -> Option<String> {
    req.headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
