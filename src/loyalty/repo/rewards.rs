//! The rewards catalogue.

use uuid::Uuid;

use crate::loyalty::events::REWARD_CHANGED;
use crate::{
    audit::{self, Actor, Change},
    db::{Db, new_id, now},
    http::{ApiError, etag, patch::patched},
    loyalty::rewards::{Reward, RewardIn, RewardPatch},
    on_db, on_tx,
};

const COLUMNS: &str =
    "id, name, description, cost_points, stock, active, version, created_at, updated_at";

pub async fn list(
    db: &Db,
    active: Option<bool>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Reward>, ApiError> {
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM loyalty_rewards
         WHERE deleted_at IS NULL AND ($1 IS NULL OR active = $1) AND ($2 IS NULL OR id > $2)
         ORDER BY id LIMIT $3"
    ))).bind(active).bind(after).bind(limit + 1).fetch_all(pool).await)?,
    )
}

pub async fn get(db: &Db, id: Uuid) -> Result<Reward, ApiError> {
    let row: Option<Reward> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM loyalty_rewards WHERE id = $1 AND deleted_at IS NULL"
    ))).bind(id).fetch_optional(pool).await)?;
    row.ok_or_else(|| ApiError::not_found("reward", id))
}

/// Creates a reward from a checked input (`RewardIn::checked`).
pub async fn create(db: &Db, actor: &Actor, input: &RewardIn) -> Result<Reward, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let reward: Reward = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO loyalty_rewards (id, name, description, cost_points, stock, active, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING {COLUMNS}"
    ))).bind(new_id()).bind(&input.name).bind(&input.description).bind(input.cost_points)
       .bind(input.stock).bind(input.active.unwrap_or(true)).bind(now).fetch_one(&mut **c).await)?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "loyalty_reward",
        reward.id,
        Change::created(&reward),
    )
    .await?;
    crate::events::record(&mut tx, actor, &REWARD_CHANGED, None, &reward).await?;
    tx.commit().await?;
    Ok(reward)
}

/// Applies a merge patch. The version check is in the UPDATE, so a
/// redemption that took stock since the caller's read makes it 412.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
    patch: RewardPatch,
) -> Result<Reward, ApiError> {
    let mut tx = db.begin().await?;
    let current: Reward = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM loyalty_rewards WHERE id = $1 AND deleted_at IS NULL"
    ))).bind(id).fetch_optional(&mut **c).await)?
    .ok_or_else(|| ApiError::not_found("reward", id))?;
    etag::check(expected, current.version)?;
    let version = current.version;
    let input = patched(current.to_input(), patch)?.checked()?;
    let row: Option<Reward> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE loyalty_rewards SET name = $1, description = $2, cost_points = $3, stock = $4, active = $5,
                version = version + 1, updated_at = $6
         WHERE id = $7 AND version = $8 AND deleted_at IS NULL RETURNING {COLUMNS}"
    ))).bind(&input.name).bind(&input.description).bind(input.cost_points).bind(input.stock)
       .bind(input.active.unwrap_or(true)).bind(now()).bind(id).bind(version)
       .fetch_optional(&mut **c).await)?;
    let reward = row.ok_or_else(|| etag::stale(current.version + 1))?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "loyalty_reward",
        id,
        Change::diff(&current, &reward),
    )
    .await?;
    crate::events::record(&mut tx, actor, &REWARD_CHANGED, None, &reward).await?;
    tx.commit().await?;
    Ok(reward)
}

/// Soft-deletes: past redemptions keep pointing at it.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let current: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT version FROM loyalty_rewards WHERE id = $1 AND deleted_at IS NULL"
    ).bind(id).fetch_optional(&mut **c).await)?;
    let current = current.ok_or_else(|| ApiError::not_found("reward", id))?;
    let version = expected.unwrap_or(current);
    let done = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE loyalty_rewards SET deleted_at = $1, active = FALSE, updated_at = $1, version = version + 1
         WHERE id = $2 AND version = $3 AND deleted_at IS NULL"
    ).bind(now).bind(id).bind(version).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(etag::stale(current));
    }
    audit::record(
        &mut tx,
        actor,
        "delete",
        "loyalty_reward",
        id,
        Change::none(),
    )
    .await?;
    crate::events::record(
        &mut tx,
        actor,
        &REWARD_CHANGED,
        None,
        &crate::events::ids(id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
