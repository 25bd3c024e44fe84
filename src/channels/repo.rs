//! SQL for channels.

use uuid::Uuid;

use super::events::{CREATED, DELETED, UPDATED};
use super::model::{Channel, ChannelIn, ChannelKind, ChannelPatch, ChannelRow, name_key};
use crate::{
    audit::{self, Actor, Change},
    db::{Db, is_foreign_key_violation, is_unique_violation, new_id, now},
    events,
    http::{ApiError, etag, patch::patched},
    on_db, on_tx,
};
use crate::{db::On, on};

const COLUMNS: &str = "id, kind, name, active, first_response_minutes, resolution_business_days, version, created_at, updated_at";

/// The 409 for a taken name, naming the channel that has it.
async fn duplicate_name(db: &Db, name: &str) -> ApiError {
    let existing: Option<Uuid> =
        on_db!(db, pool => sqlx::query_scalar("SELECT id FROM channels WHERE name_key = $1")
        .bind(name_key(name)).fetch_optional(pool).await)
        .unwrap_or(None);
    let err = ApiError::conflict(format!(
        "A channel named {:?} already exists; channel names are unique.",
        name.trim()
    ));
    match existing {
        Some(id) => err.with("existing_id", id),
        None => err,
    }
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &ChannelIn,
    kind: ChannelKind,
) -> Result<Channel, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let inserted = on_tx!(&mut tx, c => sqlx::query_as::<_, ChannelRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO channels (id, kind, name, name_key, active, first_response_minutes, resolution_business_days,
                               version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING {COLUMNS}"
    ))).bind(new_id()).bind(kind.as_str()).bind(input.name.trim()).bind(name_key(&input.name))
       .bind(input.active.unwrap_or(true)).bind(input.first_response_minutes).bind(input.resolution_business_days)
       .bind(now).fetch_one(&mut **c).await);
    let channel = match inserted {
        Ok(row) => row.into_channel(),
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            return Err(duplicate_name(db, &input.name).await);
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut tx,
        actor,
        "create",
        "channel",
        channel.id,
        Change::created(&channel),
    )
    .await?;
    events::record(&mut tx, actor, &CREATED, None, &channel).await?;
    tx.commit().await?;
    Ok(channel)
}

pub async fn get<'a>(on: impl Into<On<'a>>, id: Uuid) -> Result<ChannelRow, ApiError> {
    let row: Option<ChannelRow> = on!(on.into(), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM channels WHERE id = $1"
    ))).bind(id).fetch_optional(e).await)?;
    row.ok_or_else(|| ApiError::not_found("channel", id))
}

pub async fn list(
    db: &Db,
    kind: Option<ChannelKind>,
    active: Option<bool>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ChannelRow>, ApiError> {
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM channels
         WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR active = $2) AND ($3 IS NULL OR id > $3)
         ORDER BY id LIMIT $4"
    ))).bind(kind.map(|k| k.as_str())).bind(active).bind(after).bind(limit + 1).fetch_all(pool).await)?,
    )
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
    patch: ChannelPatch,
) -> Result<Channel, ApiError> {
    let mut tx = db.begin().await?;
    let current = get(&mut tx, id).await?;
    etag::check(expected, current.version)?;
    let input = patched(current.to_input(), patch)?;
    let kind = input.checked()?;
    let name = input.name.trim().to_string();
    let updated = on_tx!(&mut tx, c => sqlx::query_as::<_, ChannelRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE channels SET kind = $1, name = $2, name_key = $3, active = $4, first_response_minutes = $5,
                resolution_business_days = $6, version = version + 1, updated_at = $7
         WHERE id = $8 AND version = $9 RETURNING {COLUMNS}"
    ))).bind(kind.as_str()).bind(&name).bind(name_key(&name))
       .bind(input.active.unwrap_or(true))
       .bind(input.first_response_minutes)
       .bind(input.resolution_business_days)
       .bind(now()).bind(id).bind(current.version).fetch_optional(&mut **c).await);
    let channel = match updated {
        Ok(Some(row)) => row.into_channel(),
        Ok(None) => return Err(etag::stale(current.version + 1)),
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            return Err(duplicate_name(db, &name).await);
        }
        Err(e) => return Err(e.into()),
    };
    let before = current.into_channel();
    audit::record(
        &mut tx,
        actor,
        "update",
        "channel",
        id,
        Change::diff(&before, &channel),
    )
    .await?;
    events::record(&mut tx, actor, &UPDATED, None, &channel).await?;
    tx.commit().await?;
    Ok(channel)
}

fn in_use() -> ApiError {
    ApiError::conflict(
        "This channel has interactions or feedback recorded on it, so it cannot be deleted: deactivate it instead \
         (PATCH {\"active\": false}); its history stays intact and it takes no new interactions.",
    )
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
    let used: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM interactions WHERE channel_id = $1 LIMIT 1) used"
    ).bind(id).fetch_one(&mut **c).await)?;
    if used > 0 {
        return Err(in_use());
    }
    // Other modules' records (feedback) reference channels too: their foreign
    // keys refuse the delete, which is the same conflict.
    let deleted = on_tx!(&mut tx, c => sqlx::query("DELETE FROM channels WHERE id = $1 AND version = $2")
        .bind(id).bind(current.version).execute(&mut **c).await.map(|r| r.rows_affected()));
    match deleted {
        Ok(0) => return Err(etag::stale(current.version + 1)),
        Ok(_) => {}
        Err(e) if is_foreign_key_violation(&e) => return Err(in_use()),
        Err(e) => return Err(e.into()),
    }
    audit::record(&mut tx, actor, "delete", "channel", id, Change::none()).await?;
    events::record(&mut tx, actor, &DELETED, None, &events::ids(id)).await?;
    tx.commit().await?;
    Ok(())
}
