//! Tasks' SQL: writes with their recurrence, and the lists.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::events::{COMPLETED, CREATED, DELETED, UPDATED};
use super::model::{COLUMNS, Due, TaskFields, TaskRow, TaskStatus};
use super::schedule::{end_of, nth_date, nth_instant};
use crate::{
    audit::{self, Actor, Change},
    db::{
        Db, Tx, new_id, now,
        refs::{Active, References},
    },
    events,
    feedback::calendar_api::load_work,
    http::{ApiError, FieldError, etag},
    on_db, on_tx,
    transactions::history::{self, Parties},
};

/// Where and when a task falls due, resolved against the database.
struct Resolved {
    assignee_id: Uuid,
    time_zone: String,
    due_at: DateTime<Utc>,
    due_on: Option<String>,
}

fn parties(account_id: Option<Uuid>, contact_id: Option<Uuid>) -> Parties {
    Parties {
        account_id,
        contact_id,
    }
}

/// Checks the references (every bad one at once) and finds the time zone:
/// the contact's, else the working calendar's.
async fn resolve(
    tx: &mut Tx,
    f: &TaskFields,
    before: Option<&TaskRow>,
    caller: Option<Uuid>,
) -> Result<Resolved, ApiError> {
    let mut refs = References::new();
    let assignee = f.assignee_id.or(caller);
    match assignee {
        None => refs.also(FieldError::new(
            "assignee_id",
            "required",
            "is required for an API key, which is no user: name the user who does the task",
        )),
        Some(id) if before.is_none_or(|b| b.assignee_id != id) => {
            refs.user(
                tx,
                "assignee_id",
                Some(id),
                Active::Required { takes: "tasks" },
            )
            .await?
        }
        Some(_) => {}
    }
    let new_contact = f
        .contact_id
        .filter(|c| before.is_none_or(|b| b.contact_id != Some(*c)));
    refs.contact(tx, "contact_id", new_contact).await?;
    refs.account(tx, "account_id", f.account_id).await?;
    for (field, table, id) in [
        ("feedback_id", "feedback", f.feedback_id),
        ("engagement_id", "engagements", f.engagement_id),
    ] {
        let Some(id) = id else { continue };
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE id = $1");
        let found: i64 = on_tx!(&mut *tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id)
            .fetch_one(&mut **c).await)?;
        if found == 0 {
            refs.also(FieldError::new(
                field,
                "not_found",
                format!("no {table} record has the id {id}"),
            ));
        }
    }
    refs.finish()?;
    let contact_zone: Option<String> = match f.contact_id {
        Some(id) => {
            on_tx!(&mut *tx, c => sqlx::query_scalar("SELECT time_zone FROM contacts WHERE id = $1")
            .bind(id).fetch_optional(&mut **c).await)?
            .flatten()
        }
        None => None,
    };
    let tz: Tz = match contact_zone.as_deref().and_then(|z| z.parse().ok()) {
        Some(tz) => tz,
        None => load_work(&mut *tx).await?.tz,
    };
    let (due_at, due_on) = match f.due {
        Due::At(at) => (at, None),
        Due::On(day) => (end_of(tz, day), Some(day.to_string())),
    };
    Ok(Resolved {
        assignee_id: assignee.unwrap_or_default(),
        time_zone: tz.name().to_string(),
        due_at,
        due_on,
    })
}

/// Where a task comes from: the occurrence it follows, its place in a
/// recurring series, the rule that created it.
#[derive(Default)]
pub(super) struct Origin {
    pub follows: Option<Uuid>,
    /// The series' first due date (local) and this occurrence's number in it.
    pub series: Option<(String, i64)>,
    pub rule: Option<(&'static str, Uuid)>,
}

/// A series' anchor: the local date, or local date-time, of its first deadline.
fn anchor_of(r: &Resolved) -> String {
    match &r.due_on {
        Some(day) => day.clone(),
        None => {
            let tz: Tz = r.time_zone.parse().unwrap_or(Tz::UTC);
            r.due_at
                .with_timezone(&tz)
                .naive_local()
                .format("%Y-%m-%dT%H:%M:%S%.f")
                .to_string()
        }
    }
}

/// Inserts a task; `None` when the occurrence or rule it comes from already
/// has its task.
async fn insert(
    tx: &mut Tx,
    f: &TaskFields,
    r: &Resolved,
    origin: &Origin,
    actor: &Actor,
) -> Result<Option<TaskRow>, ApiError> {
    let now = now();
    let completed_at = (f.status != TaskStatus::Open).then_some(now);
    let done = |id: Option<Uuid>| id.filter(|_| f.status == TaskStatus::Done);
    let (anchor, index) = match (&origin.series, f.repeat) {
        (Some((anchor, index)), _) => (Some(anchor.clone()), *index),
        (None, Some(_)) => (Some(anchor_of(r)), 0),
        (None, None) => (None, 0),
    };
    let sql = format!(
        "INSERT INTO tasks (id, title, description, kind, due_at, due_on, time_zone, assignee_id, priority, status,
            completed_at, outcome, contact_id, account_id, feedback_id, engagement_id, repeat_every, repeat_unit,
            follows_id, done_contact_id, done_account_id, created_by, series_anchor, series_index, rule,
            rule_subject, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
                 $24, $25, $26, $27, 1, $23, $23)
         ON CONFLICT DO NOTHING
         RETURNING {COLUMNS}"
    );
    Ok(
        on_tx!(&mut *tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(new_id()).bind(&f.title).bind(&f.description).bind(f.kind).bind(r.due_at).bind(&r.due_on)
        .bind(&r.time_zone).bind(r.assignee_id).bind(f.priority).bind(f.status).bind(completed_at)
        .bind(&f.outcome).bind(f.contact_id).bind(f.account_id).bind(f.feedback_id).bind(f.engagement_id)
        .bind(f.repeat.map(|r| r.every)).bind(f.repeat.map(|r| r.unit)).bind(origin.follows)
        .bind(done(f.contact_id)).bind(done(f.account_id)).bind(actor.user_id()).bind(now)
        .bind(&anchor).bind(index).bind(origin.rule.map(|(rule, _)| rule)).bind(origin.rule.map(|(_, s)| s))
        .fetch_optional(&mut **c).await)?,
    )
}

/// A task a rule creates (in the caller's transaction), once per rule and
/// subject; `None` when it exists, or when its assignee can no longer take
/// tasks.
pub(super) async fn create_by_rule(
    tx: &mut Tx,
    f: &TaskFields,
    rule: &'static str,
    subject: Uuid,
) -> Result<Option<TaskRow>, ApiError> {
    let resolved = match resolve(tx, f, None, None).await {
        Ok(r) => r,
        Err(ApiError::Problem { status, .. }) if status.as_u16() == 422 => return Ok(None),
        Err(e) => return Err(e),
    };
    let actor = Actor::system();
    let origin = Origin {
        rule: Some((rule, subject)),
        ..Origin::default()
    };
    let Some(row) = insert(tx, f, &resolved, &origin, &actor).await? else {
        return Ok(None);
    };
    history::refresh_next_task(tx, &[parties(row.account_id, row.contact_id)]).await?;
    let task = row.clone().into_task(now());
    audit::record(tx, &actor, "create", "task", row.id, Change::created(&task)).await?;
    events::record(tx, &actor, &CREATED, row.contact_id, &task).await?;
    Ok(Some(row))
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    f: TaskFields,
    caller: Option<Uuid>,
) -> Result<TaskRow, ApiError> {
    let mut tx = db.begin().await?;
    let resolved = resolve(&mut tx, &f, None, caller).await?;
    let row = insert(&mut tx, &f, &resolved, &Origin::default(), actor)
        .await?
        .ok_or_else(|| ApiError::internal("a new task follows no other, so it cannot conflict"))?;
    history::refresh_next_task(&mut tx, &[parties(row.account_id, row.contact_id)]).await?;
    let task = row.clone().into_task(now());
    audit::record(
        &mut tx,
        actor,
        "create",
        "task",
        row.id,
        Change::created(&task),
    )
    .await?;
    events::record(&mut tx, actor, &CREATED, row.contact_id, &task).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get(db: &Db, id: Uuid) -> Result<TaskRow, ApiError> {
    let row: Option<TaskRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tasks WHERE id = $1"
    ))).bind(id).fetch_optional(pool).await)?;
    row.ok_or_else(|| ApiError::not_found("task", id))
}

/// The next occurrence of a recurring task that was just closed: the next
/// step of its series, on the calendar date in the task's time zone.
fn next_occurrence(row: &TaskRow, f: &TaskFields) -> Option<(TaskFields, Origin)> {
    let repeat = row.repeat()?;
    let tz: Tz = row.time_zone.parse().ok()?;
    let anchor = row.series_anchor.clone()?;
    let index = row.series_index + 1;
    let due = match row.due_on() {
        Some(_) => Due::On(nth_date(anchor.parse().ok()?, repeat, index)?),
        None => Due::At(nth_instant(tz, anchor.parse().ok()?, repeat, index)?),
    };
    let fields = TaskFields {
        due,
        status: TaskStatus::Open,
        outcome: None,
        assignee_id: Some(row.assignee_id),
        ..f.clone()
    };
    let origin = Origin {
        follows: Some(row.id),
        series: Some((anchor, index)),
        rule: None,
    };
    Some((fields, origin))
}

/// Applies new field values when the version still matches. Closing a
/// recurring occurrence (done or cancelled) creates the next one, once.
pub async fn update(
    db: &Db,
    actor: &Actor,
    before: &TaskRow,
    expected: i64,
    f: TaskFields,
) -> Result<TaskRow, ApiError> {
    let mut tx = db.begin().await?;
    let resolved = resolve(&mut tx, &f, Some(before), None).await?;
    let now = now();
    let closing = before.status == TaskStatus::Open && f.status != TaskStatus::Open;
    let completed_at = match f.status {
        TaskStatus::Open => None,
        _ if closing => Some(now),
        _ => before.completed_at,
    };
    let done = |id: Option<Uuid>| id.filter(|_| f.status == TaskStatus::Done);
    let sql = format!(
        "UPDATE tasks SET title = $1, description = $2, kind = $3, due_at = $4, due_on = $5, time_zone = $6,
            assignee_id = $7, priority = $8, status = $9, completed_at = $10, outcome = $11, contact_id = $12,
            account_id = $13, feedback_id = $14, engagement_id = $15, repeat_every = $16, repeat_unit = $17,
            done_contact_id = $18, done_account_id = $19, version = version + 1, updated_at = $20,
            series_anchor = $23, series_index = $24
         WHERE id = $21 AND version = $22 RETURNING {COLUMNS}"
    );
    // A new deadline or interval starts the series again from this occurrence.
    let same_series = before.repeat() == f.repeat && before.due_at == resolved.due_at;
    let (anchor, index) = match f.repeat {
        None => (None, 0),
        Some(_) if same_series && before.series_anchor.is_some() => {
            (before.series_anchor.clone(), before.series_index)
        }
        Some(_) => (Some(anchor_of(&resolved)), 0),
    };
    let row: Option<TaskRow> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&f.title).bind(&f.description).bind(f.kind).bind(resolved.due_at).bind(&resolved.due_on)
        .bind(&resolved.time_zone).bind(resolved.assignee_id).bind(f.priority).bind(f.status).bind(completed_at)
        .bind(&f.outcome).bind(f.contact_id).bind(f.account_id).bind(f.feedback_id).bind(f.engagement_id)
        .bind(f.repeat.map(|r| r.every)).bind(f.repeat.map(|r| r.unit)).bind(done(f.contact_id))
        .bind(done(f.account_id)).bind(now).bind(before.id).bind(expected).bind(&anchor).bind(index)
        .fetch_optional(&mut **c).await)?;
    let Some(row) = row else {
        let current: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT version FROM tasks WHERE id = $1")
            .bind(before.id).fetch_optional(&mut **c).await)?;
        return Err(current.map_or_else(|| ApiError::not_found("task", before.id), etag::stale));
    };
    let mut next = None;
    if closing && let Some((fields, origin)) = next_occurrence(&row, &f) {
        let resolved = resolve(&mut tx, &fields, Some(&row), None).await?;
        next = insert(&mut tx, &fields, &resolved, &origin, actor).await?;
    }
    history::refresh_next_task(
        &mut tx,
        &[
            parties(before.account_id, before.contact_id),
            parties(row.account_id, row.contact_id),
        ],
    )
    .await?;
    let task = row.clone().into_task(now);
    let change = Change::diff(&before.clone().into_task(now), &task);
    audit::record(&mut tx, actor, "update", "task", row.id, change).await?;
    let kind = if closing && row.status == TaskStatus::Done {
        &COMPLETED
    } else {
        &UPDATED
    };
    events::record(&mut tx, actor, kind, row.contact_id, &task).await?;
    if let Some(next) = next {
        let task = next.clone().into_task(now);
        audit::record(
            &mut tx,
            actor,
            "create",
            "task",
            next.id,
            Change::created(&task),
        )
        .await?;
        events::record(&mut tx, actor, &CREATED, next.contact_id, &task).await?;
    }
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
    let row: Option<TaskRow> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tasks WHERE id = $1"
    ))).bind(id).fetch_optional(&mut **c).await)?;
    let row = row.ok_or_else(|| ApiError::not_found("task", id))?;
    etag::check(expected, row.version)?;
    // The next occurrence no longer follows a task that exists.
    on_tx!(&mut tx, c => sqlx::query("UPDATE tasks SET follows_id = NULL WHERE follows_id = $1")
        .bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM tasks WHERE id = $1").bind(id)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    history::refresh_next_task(&mut tx, &[parties(row.account_id, row.contact_id)]).await?;
    audit::record(&mut tx, actor, "delete", "task", id, Change::none()).await?;
    events::record(&mut tx, actor, &DELETED, row.contact_id, &events::ids(id)).await?;
    tx.commit().await?;
    Ok(())
}
