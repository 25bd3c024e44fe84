//! Engagements' SQL: the engagement, its status history and its people.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::events::{CREATED, DELETED, STATUS_CHANGED, UPDATED};
use super::model::{COLUMNS, Engagement, EngagementFields, EngagementRow};
use super::status::EngagementStatus;
use crate::{
    accounts::repo::prefixed,
    audit::{self, Actor, Change},
    db::{
        Db, Tx, is_unique_violation, new_id, now,
        refs::{Active, References},
        sql::{self, Arg, Filters},
    },
    events,
    http::{
        ApiError, etag,
        pagination::{KeysetCursor, Sort, SortKind},
    },
    on_db, on_tx,
};

/// The account must be live; a new owner must be an active user (an owner
/// kept from before may since have been deactivated).
async fn check_references(
    tx: &mut Tx,
    f: &EngagementFields,
    before: Option<&EngagementRow>,
) -> Result<(), ApiError> {
    let mut refs = References::new();
    refs.account(tx, "account_id", Some(f.account_id)).await?;
    let owner_rule = if before.is_some_and(|b| b.owner_id == f.owner_id) {
        Active::Any
    } else {
        Active::Required {
            takes: "engagements",
        }
    };
    refs.user(tx, "owner_id", f.owner_id, owner_rule).await?;
    if let Some(external_id) = &f.external_id {
        let taken: Option<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT id FROM engagements WHERE external_id = $1 AND id <> $2"
        ).bind(external_id).bind(before.map_or(Uuid::nil(), |b| b.id)).fetch_optional(&mut **c).await)?;
        if let Some(id) = taken {
            return Err(duplicate_external_id(external_id).with("engagement_id", id));
        }
    }
    refs.finish()
}

fn duplicate_external_id(external_id: &str) -> ApiError {
    ApiError::conflict(format!(
        "Another engagement already has the external_id {external_id:?}: external ids are unique."
    ))
}

fn stored(e: sqlx::Error, f: &EngagementFields) -> ApiError {
    match &f.external_id {
        Some(x) if is_unique_violation(&e) => duplicate_external_id(x),
        _ => e.into(),
    }
}

async fn record_status(
    tx: &mut Tx,
    row: &EngagementRow,
    from: Option<EngagementStatus>,
    actor: &Actor,
) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO engagement_status_changes (id, engagement_id, account_id, from_status, to_status, changed_by, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ).bind(new_id()).bind(row.id).bind(row.account_id).bind(from).bind(row.status).bind(actor.user_id())
     .bind(row.updated_at).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    f: EngagementFields,
) -> Result<EngagementRow, ApiError> {
    let mut tx = db.begin().await?;
    check_references(&mut tx, &f, None).await?;
    let sql = format!(
        "INSERT INTO engagements (id, account_id, name, service_line, status, started_on, ended_on, value, currency,
            owner_id, external_id, tags, custom_fields, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14)
         RETURNING {COLUMNS}"
    );
    let row: EngagementRow = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(new_id()).bind(f.account_id).bind(&f.name).bind(&f.service_line).bind(f.status)
        .bind(&f.started_on).bind(&f.ended_on).bind(f.value).bind(&f.currency).bind(f.owner_id)
        .bind(&f.external_id).bind(sqlx::types::Json(&f.tags)).bind(sqlx::types::Json(&f.custom_fields))
        .bind(now()).fetch_one(&mut **c).await).map_err(|e| stored(e, &f))?;
    record_status(&mut tx, &row, None, actor).await?;
    let engagement = row.clone().into_engagement();
    audit::record(
        &mut tx,
        actor,
        "create",
        "engagement",
        row.id,
        Change::created(&engagement),
    )
    .await?;
    events::record(&mut tx, actor, &CREATED, None, &engagement).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get(db: &Db, id: Uuid) -> Result<EngagementRow, ApiError> {
    let row: Option<EngagementRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM engagements WHERE id = $1"
    ))).bind(id).fetch_optional(pool).await)?;
    row.ok_or_else(|| ApiError::not_found("engagement", id))
}

/// 409 unless `to` is the current status or an allowed move from it.
pub fn check_move(from: EngagementStatus, to: EngagementStatus) -> Result<(), ApiError> {
    if from == to || from.can_move_to(to) {
        return Ok(());
    }
    let allowed = from.allowed_names();
    let detail = if allowed.is_empty() {
        format!("The engagement is {from}, a final status: it can no longer change status.")
    } else {
        format!(
            "An engagement cannot move from {from} to {to}: from {from} it can move to {}.",
            allowed.join(", ")
        )
    };
    Err(ApiError::conflict(detail)
        .with("current_status", from.as_str())
        .with("allowed", allowed))
}

#[derive(Serialize)]
struct StatusChanged<'a> {
    #[serde(flatten)]
    engagement: &'a Engagement,
    previous_status: EngagementStatus,
}

/// Applies new field values when the version still matches.
pub async fn update(
    db: &Db,
    actor: &Actor,
    before: &EngagementRow,
    expected: i64,
    f: EngagementFields,
) -> Result<EngagementRow, ApiError> {
    check_move(before.status, f.status)?;
    let mut tx = db.begin().await?;
    check_references(&mut tx, &f, Some(before)).await?;
    let sql = format!(
        "UPDATE engagements SET name = $1, service_line = $2, status = $3, started_on = $4, ended_on = $5,
            value = $6, currency = $7, owner_id = $8, external_id = $9, tags = $10, custom_fields = $11,
            version = version + 1, updated_at = $12
         WHERE id = $13 AND version = $14 RETURNING {COLUMNS}"
    );
    let row: Option<EngagementRow> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&f.name).bind(&f.service_line).bind(f.status).bind(&f.started_on).bind(&f.ended_on)
        .bind(f.value).bind(&f.currency).bind(f.owner_id).bind(&f.external_id)
        .bind(sqlx::types::Json(&f.tags)).bind(sqlx::types::Json(&f.custom_fields)).bind(now())
        .bind(before.id).bind(expected).fetch_optional(&mut **c).await)
    .map_err(|e| stored(e, &f))?;
    let Some(row) = row else {
        return Err(stale_or_gone(&mut tx, before.id).await);
    };
    let engagement = row.clone().into_engagement();
    let change = Change::diff(&before.clone().into_engagement(), &engagement);
    audit::record(&mut tx, actor, "update", "engagement", row.id, change).await?;
    if row.status != before.status {
        record_status(&mut tx, &row, Some(before.status), actor).await?;
        let data = StatusChanged {
            engagement: &engagement,
            previous_status: before.status,
        };
        events::record(&mut tx, actor, &STATUS_CHANGED, None, &data).await?;
    } else {
        events::record(&mut tx, actor, &UPDATED, None, &engagement).await?;
    }
    tx.commit().await?;
    Ok(row)
}

async fn current_version(tx: &mut Tx, id: Uuid) -> Result<Option<i64>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT version FROM engagements WHERE id = $1")
        .bind(id).fetch_optional(&mut **c).await)?,
    )
}

pub(super) async fn stale_or_gone(tx: &mut Tx, id: Uuid) -> ApiError {
    match current_version(tx, id).await {
        Ok(Some(v)) => etag::stale(v),
        Ok(None) => ApiError::not_found("engagement", id),
        Err(e) => e,
    }
}

/// What still points at an engagement, as `(noun, count)`.
async fn linked_records(tx: &mut Tx, id: Uuid) -> Result<Vec<(&'static str, i64)>, ApiError> {
    let mut linked = Vec::new();
    for (noun, sql) in [
        (
            "transaction",
            "SELECT COUNT(*) FROM transactions WHERE engagement_id = $1",
        ),
        (
            "interaction",
            "SELECT COUNT(*) FROM interactions WHERE engagement_id = $1",
        ),
        (
            "feedback item",
            "SELECT COUNT(*) FROM feedback WHERE engagement_id = $1",
        ),
    ] {
        let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(id).fetch_one(&mut **c).await)?;
        if n > 0 {
            linked.push((noun, n));
        }
    }
    Ok(linked)
}

/// Deletes an engagement nothing else refers to (its people and status
/// history go with it). One with transactions, interactions or feedback is
/// kept: close it or mark it lost instead.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    let version = current_version(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("engagement", id))?;
    etag::check(expected, version)?;
    let linked = linked_records(&mut tx, id).await?;
    if !linked.is_empty() {
        let words: Vec<String> = linked
            .iter()
            .map(|(noun, n)| format!("{n} {noun}{}", if *n == 1 { "" } else { "s" }))
            .collect();
        return Err(ApiError::conflict(format!(
            "The engagement has {}: it stays as their record. Set its status to closed or lost instead.",
            words.join(" and ")
        )));
    }
    for sql in [
        "DELETE FROM engagement_contacts WHERE engagement_id = $1",
        "DELETE FROM engagement_status_changes WHERE engagement_id = $1",
        "DELETE FROM engagements WHERE id = $1",
    ] {
        on_tx!(&mut tx, c => sqlx::query(sql).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    audit::record(&mut tx, actor, "delete", "engagement", id, Change::none()).await?;
    events::record(&mut tx, actor, &DELETED, None, &events::ids(id)).await?;
    tx.commit().await?;
    Ok(())
}

pub const SORTS: [(&str, &str, SortKind); 3] = [
    ("created_at", "e.created_at", SortKind::Time),
    ("started_on", "e.started_on", SortKind::TextOrNull),
    ("value", "e.value", SortKind::IntOrNull),
];

/// Filters for the engagement list, already validated.
#[derive(Default)]
pub struct EngagementQuery {
    pub account_id: Option<Uuid>,
    pub status: Option<EngagementStatus>,
    pub owner_id: Option<Uuid>,
    pub service_line: Option<String>,
    pub started_from: Option<String>,
    pub started_to: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

fn filters(q: &EngagementQuery) -> Filters {
    let mut f = Filters::new();
    if let Some(v) = q.account_id {
        f.when("e.account_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = q.status {
        f.when("e.status = {}", Arg::Text(v.as_str().into()));
    }
    if let Some(v) = q.owner_id {
        f.when("e.owner_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = &q.service_line {
        f.when(
            "LOWER(e.service_line) = {}",
            Arg::Text(v.trim().to_lowercase()),
        );
    }
    if let Some(v) = &q.started_from {
        f.when("e.started_on >= {}", Arg::Text(v.clone()));
    }
    if let Some(v) = &q.started_to {
        f.when("e.started_on <= {}", Arg::Text(v.clone()));
    }
    if let Some(v) = q.updated_since {
        f.when("e.updated_at >= {}", Arg::Time(v));
    }
    f
}

pub async fn list(
    db: &Db,
    q: &EngagementQuery,
    sort: &Sort,
    cursor: Option<KeysetCursor>,
    limit: i64,
) -> Result<Vec<EngagementRow>, ApiError> {
    let select = format!("SELECT {} FROM engagements e", prefixed(COLUMNS, "e"));
    sql::keyset_page(db, &select, filters(q), sort, cursor, "e.id", limit).await
}

pub async fn count(db: &Db, q: &EngagementQuery) -> Result<i64, ApiError> {
    sql::count(db, "FROM engagements e", &filters(q)).await
}
