//! Webhook endpoints' SQL. Deliveries and attempts are in [`deliveries`].

pub mod deliveries;

use chrono::{DateTime, TimeDelta};
use sqlx::types::Json;
use uuid::Uuid;

use super::model::{EndpointIn, EndpointPatch, EndpointRow};
use crate::{
    audit::{self, Actor, Change},
    db::{Db, On, Tx, new_id, now},
    http::{ApiError, etag, patch::patched},
    on, on_tx,
};

const COLUMNS: &str = "id, url, description, event_types, enabled, disabled_reason, secret, previous_secret, \
                       previous_expires_at, version, created_at, updated_at";

/// What the audit log records of an endpoint (never its secrets).
fn audited(row: &EndpointRow) -> serde_json::Value {
    serde_json::json!({
        "url": row.url, "description": row.description,
        "event_types": row.event_types.as_ref().map(|t| &t.0), "enabled": row.enabled,
    })
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &EndpointIn,
    secret: &str,
) -> Result<EndpointRow, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let row = on_tx!(&mut tx, c => sqlx::query_as::<_, EndpointRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, secret, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING {COLUMNS}"
    ))).bind(new_id()).bind(input.url.trim()).bind(&input.description).bind(input.event_types.as_ref().map(Json))
       .bind(input.enabled.unwrap_or(true)).bind(secret).bind(now).fetch_one(&mut **c).await)?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "webhook_endpoint",
        row.id,
        Change::created(&audited(&row)),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get<'a>(on: impl Into<On<'a>>, id: Uuid) -> Result<EndpointRow, ApiError> {
    let row: Option<EndpointRow> = on!(on.into(), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1"
    ))).bind(id).fetch_optional(e).await)?;
    row.ok_or_else(|| ApiError::not_found("webhook endpoint", id))
}

/// A page of endpoints, oldest first (ids are time-ordered).
pub async fn list(db: &Db, after: Option<Uuid>, limit: i64) -> Result<Vec<EndpointRow>, ApiError> {
    let rows = on!(On::from(db), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id > $1 ORDER BY id LIMIT $2"
    ))).bind(after.unwrap_or_default()).bind(limit + 1).fetch_all(e).await)?;
    Ok(rows)
}

/// The endpoints that take new deliveries.
pub async fn enabled(tx: &mut Tx) -> Result<Vec<EndpointRow>, ApiError> {
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE enabled ORDER BY id"
    ))).fetch_all(&mut **c).await)?)
}

/// Applies a patch; the result passes the create's checks (`check`).
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
    patch: EndpointPatch,
    check: impl FnOnce(&EndpointIn) -> Result<(), ApiError>,
) -> Result<EndpointRow, ApiError> {
    let mut tx = db.begin().await?;
    let current = get(&mut tx, id).await?;
    etag::check(expected, current.version)?;
    let input = patched(current.to_input(), patch)?;
    check(&input)?;
    let enabled = input.enabled.unwrap_or(true);
    // Enabling clears the reason the server gave for disabling it.
    let reason = if enabled {
        None
    } else {
        current.disabled_reason.clone()
    };
    let row = on_tx!(&mut tx, c => sqlx::query_as::<_, EndpointRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, enabled = $4, disabled_reason = $5,
                version = version + 1, updated_at = $6
         WHERE id = $7 AND version = $8 RETURNING {COLUMNS}"
    ))).bind(input.url.trim()).bind(&input.description).bind(input.event_types.as_ref().map(Json))
       .bind(enabled).bind(&reason).bind(now()).bind(id).bind(current.version).fetch_optional(&mut **c).await)?
        .ok_or_else(|| etag::stale(current.version + 1))?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "webhook_endpoint",
        id,
        Change::diff(&audited(&current), &audited(&row)),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn delete(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    let current = get(&mut tx, id).await?;
    etag::check(expected, current.version)?;
    // Its deliveries and their attempts go with it.
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)")
        .bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
        .bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::record(
        &mut tx,
        actor,
        "delete",
        "webhook_endpoint",
        id,
        Change::none(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the signing secret; the old one keeps signing for `overlap`.
pub async fn rotate(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    secret: &str,
    overlap: TimeDelta,
) -> Result<(EndpointRow, Option<DateTime<chrono::Utc>>), ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let current = get(&mut tx, id).await?;
    let until = (overlap > TimeDelta::zero()).then(|| now + overlap);
    let row = on_tx!(&mut tx, c => sqlx::query_as::<_, EndpointRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_expires_at = $1, secret = $2,
                version = version + 1, updated_at = $3
         WHERE id = $4 AND version = $5 RETURNING {COLUMNS}"
    ))).bind(until).bind(secret).bind(now).bind(id).bind(current.version).fetch_optional(&mut **c).await)?
        .ok_or_else(|| etag::stale(current.version + 1))?;
    let change = Change::none()
        .with("secret", "rotated")
        .with("previous_secret_expires_at", until);
    audit::record(
        &mut tx,
        actor,
        "rotate_secret",
        "webhook_endpoint",
        id,
        change,
    )
    .await?;
    tx.commit().await?;
    Ok((row, until))
}

/// Disables an endpoint that failed a whole schedule; false when it was
/// already disabled (another node got there first).
pub async fn disable(tx: &mut Tx, id: Uuid, reason: &str) -> Result<Option<EndpointRow>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_as::<_, EndpointRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND enabled RETURNING {COLUMNS}"
    ))).bind(reason).bind(now()).bind(id).fetch_optional(&mut **c).await)?,
    )
}
