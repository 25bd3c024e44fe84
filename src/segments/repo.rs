//! Segments' SQL. The members are read by the contacts' and accounts' own
//! list queries (see `filter`), never here.

use uuid::Uuid;

use super::events::{CREATED, DELETED, UPDATED};
use super::model::{COLUMNS, SegmentEntity, SegmentFields, SegmentRow};
use crate::{
    accounts::repo::prefixed,
    audit::{self, Actor, Change},
    db::{
        Db, Tx, new_id, now,
        sql::{self, Arg, Filters},
    },
    events,
    http::{
        ApiError, etag,
        pagination::{KeysetCursor, Sort, SortKind},
    },
    on_db, on_tx,
};

pub async fn create(db: &Db, actor: &Actor, f: SegmentFields) -> Result<SegmentRow, ApiError> {
    let mut tx = db.begin().await?;
    let sql = format!(
        "INSERT INTO segments (id, name, entity, filter, created_by, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING {COLUMNS}"
    );
    let row: SegmentRow = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(new_id()).bind(&f.name).bind(f.entity).bind(sqlx::types::Json(&f.filter))
        .bind(actor.user_id()).bind(now()).fetch_one(&mut **c).await)?;
    let segment = row.clone().into_segment();
    audit::record(
        &mut tx,
        actor,
        "create",
        "segment",
        row.id,
        Change::created(&segment),
    )
    .await?;
    events::record(&mut tx, actor, &CREATED, None, &segment).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get(db: &Db, id: Uuid) -> Result<SegmentRow, ApiError> {
    let row: Option<SegmentRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM segments WHERE id = $1"
    ))).bind(id).fetch_optional(pool).await)?;
    row.ok_or_else(|| ApiError::not_found("segment", id))
}

/// Applies new field values when the version still matches.
pub async fn update(
    db: &Db,
    actor: &Actor,
    before: &SegmentRow,
    expected: i64,
    f: SegmentFields,
) -> Result<SegmentRow, ApiError> {
    let mut tx = db.begin().await?;
    let sql = format!(
        "UPDATE segments SET name = $1, filter = $2, version = version + 1, updated_at = $3
         WHERE id = $4 AND version = $5 RETURNING {COLUMNS}"
    );
    let row: Option<SegmentRow> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&f.name).bind(sqlx::types::Json(&f.filter)).bind(now()).bind(before.id).bind(expected)
        .fetch_optional(&mut **c).await)?;
    let Some(row) = row else {
        let current = current_version(&mut tx, before.id).await?;
        return Err(current.map_or_else(|| ApiError::not_found("segment", before.id), etag::stale));
    };
    let segment = row.clone().into_segment();
    let change = Change::diff(&before.clone().into_segment(), &segment);
    audit::record(&mut tx, actor, "update", "segment", row.id, change).await?;
    events::record(&mut tx, actor, &UPDATED, None, &segment).await?;
    tx.commit().await?;
    Ok(row)
}

async fn current_version(tx: &mut Tx, id: Uuid) -> Result<Option<i64>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT version FROM segments WHERE id = $1")
        .bind(id).fetch_optional(&mut **c).await)?,
    )
}

/// Deletes a segment (only the saved filter: its members are untouched).
pub async fn delete(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    let version = current_version(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("segment", id))?;
    etag::check(expected, version)?;
    let done = on_tx!(&mut tx, c => sqlx::query("DELETE FROM segments WHERE id = $1 AND version = $2")
        .bind(id).bind(version).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(etag::stale(version + 1));
    }
    audit::record(&mut tx, actor, "delete", "segment", id, Change::none()).await?;
    events::record(&mut tx, actor, &DELETED, None, &events::ids(id)).await?;
    tx.commit().await?;
    Ok(())
}

pub const SORTS: [(&str, &str, SortKind); 2] = [
    ("created_at", "s.created_at", SortKind::Time),
    ("updated_at", "s.updated_at", SortKind::Time),
];

pub async fn list(
    db: &Db,
    entity: Option<SegmentEntity>,
    sort: &Sort,
    cursor: Option<KeysetCursor>,
    limit: i64,
) -> Result<Vec<SegmentRow>, ApiError> {
    let mut f = Filters::new();
    if let Some(entity) = entity {
        f.when("s.entity = {}", Arg::Text(entity.as_str().into()));
    }
    let select = format!("SELECT {} FROM segments s", prefixed(COLUMNS, "s"));
    sql::keyset_page(db, &select, f, sort, cursor, "s.id", limit).await
}
