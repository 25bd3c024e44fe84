//! Deliveries and their attempts: created by the dispatcher, claimed and
//! finished by the delivery job on any node.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::{
    bind_args,
    db::{
        Db, Tx, new_id, now,
        sql::{Arg, Filters},
    },
    dialect,
    http::ApiError,
    on_db, on_tx, on_writer,
    webhooks::model::{Attempt, DeliveryRow, DeliveryStatus},
};

const COLUMNS: &str = "d.id, d.endpoint_id, d.event_id, ev.type AS event_type, d.status, d.attempts, \
                       d.next_attempt_at, d.created_at";
const FROM: &str = "FROM webhook_deliveries d LEFT JOIN events ev ON ev.id = d.event_id";

/// A new pending delivery, due now; nothing when the endpoint already has one
/// for the event.
pub async fn insert(tx: &mut Tx, endpoint_id: Uuid, event_id: Uuid) -> Result<Uuid, ApiError> {
    let id = new_id();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4) ON CONFLICT (endpoint_id, event_id) DO NOTHING"
    ).bind(id).bind(endpoint_id).bind(event_id).bind(now()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

pub async fn get(db: &Db, endpoint_id: Uuid, id: Uuid) -> Result<DeliveryRow, ApiError> {
    let row: Option<DeliveryRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} {FROM} WHERE d.id = $1 AND d.endpoint_id = $2"
    ))).bind(id).bind(endpoint_id).fetch_optional(pool).await)?;
    row.ok_or_else(|| ApiError::not_found("delivery of this endpoint", id))
}

/// A page of an endpoint's deliveries, newest first.
pub async fn list(
    db: &Db,
    endpoint_id: Uuid,
    status: Option<DeliveryStatus>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, ApiError> {
    let mut filters = Filters::new();
    filters.when("d.endpoint_id = {}", Arg::Uuid(endpoint_id));
    if let Some(status) = status {
        filters.when("d.status = {}", Arg::Text(status.as_str().into()));
    }
    if let Some(before) = before {
        filters.when("d.id < {}", Arg::Uuid(before));
    }
    // Written in, not bound: see `db::sql::keyset_page`.
    let limit = limit + 1;
    let sql = format!(
        "SELECT {COLUMNS} {FROM} {} ORDER BY d.id DESC LIMIT {limit}",
        filters.where_sql()
    );
    Ok(
        on_db!(db, pool => bind_args!(sqlx::query_as::<_, DeliveryRow>(sqlx::AssertSqlSafe(sql)), filters.args)
        .fetch_all(pool).await)?,
    )
}

/// The attempts of these deliveries, oldest first, by delivery.
pub async fn attempts_of(db: &Db, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Attempt>>, ApiError> {
    let mut by_delivery: HashMap<Uuid, Vec<Attempt>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_delivery);
    }
    let mut filters = Filters::new();
    let placeholders: Vec<String> = ids.iter().map(|id| filters.arg(Arg::Uuid(*id))).collect();
    let sql = format!(
        "SELECT delivery_id, attempted_at, status_code, duration_ms, error FROM webhook_attempts
         WHERE delivery_id IN ({}) ORDER BY attempted_at, id",
        placeholders.join(", ")
    );
    let rows: Vec<(Uuid, DateTime<Utc>, Option<i64>, i64, Option<String>)> = on_db!(db, pool =>
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), filters.args).fetch_all(pool).await)?;
    for (delivery, attempted_at, status_code, duration_ms, error) in rows {
        by_delivery.entry(delivery).or_default().push(Attempt {
            attempted_at,
            status_code,
            duration_ms,
            error,
        });
    }
    Ok(by_delivery)
}

/// Makes a delivery due again now, whatever its state (a manual retry).
pub async fn retry(db: &Db, endpoint_id: Uuid, id: Uuid) -> Result<(), ApiError> {
    let done = on_writer!(db, pool => sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, locked_until = NULL, updated_at = $1
         WHERE id = $2 AND endpoint_id = $3"
    ).bind(now()).bind(id).bind(endpoint_id).execute(pool).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(ApiError::not_found("delivery of this endpoint", id));
    }
    Ok(())
}

/// Whether any delivery is due (a read, so idle nodes never take the writer).
pub async fn any_due(db: &Db) -> Result<bool, ApiError> {
    let found: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(1 AS BIGINT) FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 LIMIT 1"
    ).bind(now()).fetch_optional(pool).await)?;
    Ok(found.is_some())
}

/// A delivery this node holds until `locked_until`.
#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub attempts: i64,
    pub locked_until: DateTime<Utc>,
}

/// Takes up to `limit` due deliveries of enabled endpoints for this node, for
/// `lease`. On PostgreSQL `SKIP LOCKED` lets nodes claim side by side, each
/// delivery by one; SQLite's single writer serialises the claims. A claim
/// whose lease ran out (its node died) is due again.
pub async fn claim_due(db: &Db, lease: TimeDelta, limit: i64) -> Result<Vec<Claimed>, ApiError> {
    let now = now();
    let lock = dialect!(db, sqlite: "", postgres: "FOR UPDATE OF d SKIP LOCKED");
    let sql = format!(
        "UPDATE webhook_deliveries SET locked_until = $1, updated_at = $2
         WHERE id IN (
             SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= $2
               AND (d.locked_until IS NULL OR d.locked_until <= $2) AND e.enabled
             ORDER BY d.next_attempt_at LIMIT $3 {lock})
         RETURNING id, endpoint_id, event_id, attempts, locked_until"
    );
    let mut tx = db.begin().await?;
    let claimed = on_tx!(&mut tx, c => sqlx::query_as::<_, Claimed>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(now + lease).bind(now).bind(limit).fetch_all(&mut **c).await)?;
    tx.commit().await?;
    Ok(claimed)
}

/// What one attempt gave.
pub struct Outcome {
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// `None` when the delivery succeeded or its schedule is over.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub status: DeliveryStatus,
}

/// Records an attempt and the delivery's new state inside `tx`; false when
/// this node no longer holds the claim (its lease ran out and another node
/// took over), in which case nothing is recorded.
pub async fn finish(tx: &mut Tx, claim: &Claimed, outcome: &Outcome) -> Result<bool, ApiError> {
    let held = on_tx!(tx, c => sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, next_attempt_at = $2, locked_until = NULL,
                updated_at = $3
         WHERE id = $4 AND locked_until = $5"
    ).bind(outcome.status).bind(outcome.next_attempt_at).bind(now()).bind(claim.id).bind(claim.locked_until)
     .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if held == 0 {
        return Ok(false);
    }
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code, duration_ms, error)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(new_id()).bind(claim.id).bind(outcome.attempted_at).bind(outcome.status_code).bind(outcome.duration_ms)
     .bind(&outcome.error).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(true)
}

/// Whether any delivery to the endpoint succeeded at or after `since`.
pub async fn succeeded_since(
    tx: &mut Tx,
    endpoint_id: Uuid,
    since: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let found: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT CAST(1 AS BIGINT) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE d.endpoint_id = $1 AND a.attempted_at >= $2 AND a.status_code >= 200 AND a.status_code < 300 LIMIT 1"
    ).bind(endpoint_id).bind(since).fetch_optional(&mut **c).await)?;
    Ok(found.is_some())
}

/// When the delivery was created (the start of its schedule).
pub async fn created_at(tx: &mut Tx, id: Uuid) -> Result<DateTime<Utc>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT created_at FROM webhook_deliveries WHERE id = $1")
        .bind(id).fetch_one(&mut **c).await)?,
    )
}
