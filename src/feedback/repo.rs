//! SQL for feedback items: create, read, change and delete (the list is in `list.rs`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::events::{CREATED, DELETED, UPDATED};
use super::{
    activities::{self, NewActivity},
    calendar_api,
    model::{COLUMNS, Feedback, FeedbackRow},
    rules::{Fields, NewFeedback},
    service_levels::{Clock, Targets, clock, targets},
    sla_state::sla_state_sql,
    workflow::FeedbackStatus,
};
use crate::{
    audit::{self, Actor, Change},
    db::{
        Db, Tx, new_id, now,
        refs::{Active, References},
    },
    events,
    http::{ApiError, etag},
    on_db, on_tx,
};
use crate::{db::On, on};

/// `SELECT … FROM feedback f` with `sla_state` computed against `$1` (now).
fn select_sql(rest: &str) -> String {
    format!(
        "SELECT {COLUMNS}, {} AS sla_state FROM feedback f {rest}",
        sla_state_sql("$1")
    )
}

/// An item, with its service-level state at `now`.
pub async fn get<'a>(
    on: impl Into<On<'a>>,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<FeedbackRow, ApiError> {
    let row: Option<FeedbackRow> = on!(on.into(), e => sqlx::query_as(sqlx::AssertSqlSafe(select_sql("WHERE f.id = $2")))
        .bind(now).bind(id).fetch_optional(e).await)?;
    row.ok_or_else(|| ApiError::not_found("feedback", id))
}

/// What the referenced records say: the channel's targets.
#[derive(Debug, Default, Clone, Copy)]
struct ChannelTargets {
    first: Option<i64>,
    days: Option<i64>,
}

/// Which references a write sets or changes, and so must be checked.
#[derive(Debug, Clone, Copy)]
pub struct Changed {
    pub contact: bool,
    pub account: bool,
    pub channel: bool,
    pub assignee: bool,
    pub fill_account: bool,
}

/// Checks the references (422 naming each bad field), fills the account from
/// the contact when asked, and returns the channel's targets.
async fn check_references(
    tx: &mut Tx,
    f: &mut Fields,
    changed: Changed,
) -> Result<ChannelTargets, ApiError> {
    let mut refs = References::new();
    // A deactivated channel keeps the items already on it, and their targets.
    let active = if changed.channel {
        Active::Required { takes: "feedback" }
    } else {
        Active::Any
    };
    let channel = refs
        .channel(tx, "channel_id", f.channel_id, active)
        .await?
        .map(|c| ChannelTargets {
            first: c.first_response_minutes,
            days: c.resolution_business_days,
        })
        .unwrap_or_default();
    let contact = f.contact_id.filter(|_| changed.contact);
    if let Some(account_id) = refs.contact(tx, "contact_id", contact).await?
        && changed.fill_account
    {
        f.account_id = account_id;
    }
    let account = f
        .account_id
        .filter(|_| changed.account && !changed.fill_account);
    refs.account(tx, "account_id", account).await?;
    let assignee = f.assignee_id.filter(|_| changed.assignee);
    refs.user(
        tx,
        "assignee_id",
        assignee,
        Active::Required {
            takes: "assignments",
        },
    )
    .await?;
    refs.engagement(tx, "engagement_id", f.engagement_id, f.account_id)
        .await?;
    refs.finish()?;
    Ok(channel)
}

/// The targets and due times of a workflow item, from the calendar in force.
async fn service_levels(
    tx: &mut Tx,
    f: &Fields,
    channel: ChannelTargets,
    received_at: DateTime<Utc>,
    paused_micros: i64,
) -> Result<(Targets, Clock), ApiError> {
    let t = targets(f.priority, channel.first, channel.days);
    let calendar = calendar_api::load_work(&mut *tx).await?;
    Ok((t, clock(received_at, t, &calendar, paused_micros)))
}

pub async fn create(db: &Db, actor: &Actor, new: NewFeedback) -> Result<Feedback, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let mut f = new.fields.clone();
    let changed = Changed {
        contact: true,
        account: true,
        channel: true,
        assignee: true,
        fill_account: new.fill_account,
    };
    let channel = check_references(&mut tx, &mut f, changed).await?;
    let workflow = new.kind.has_workflow();
    let (t, c) = if workflow {
        let (t, c) = service_levels(&mut tx, &f, channel, new.received_at, 0).await?;
        (Some(t), Some(c))
    } else {
        (None, None)
    };
    let id = new_id();
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO feedback (id, kind, text, csat, nps, contact_id, account_id, channel_id, category, priority,
            assignee_id, status, received_at, first_response_target_minutes, resolution_target_business_days,
            first_response_due_at, first_response_risk_at, resolution_due_at, resolution_risk_at,
            paused_micros, reopen_count, version, created_at, updated_at, engagement_id, ces)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 0, 0, 1, $20, $20,
                 $21, $22)"
    ).bind(id).bind(new.kind.as_str()).bind(&f.text).bind(f.csat).bind(f.nps).bind(f.contact_id).bind(f.account_id)
     .bind(f.channel_id).bind(&f.category).bind(f.priority.as_str()).bind(f.assignee_id)
     .bind(workflow.then_some(FeedbackStatus::New.as_str())).bind(new.received_at)
     .bind(t.map(|t| t.first_response_minutes)).bind(t.map(|t| t.resolution_business_days))
     .bind(c.map(|c| c.first_response_due_at)).bind(c.map(|c| c.first_response_risk_at))
     .bind(c.map(|c| c.resolution_due_at)).bind(c.map(|c| c.resolution_risk_at)).bind(now)
     .bind(f.engagement_id).bind(f.ces).execute(&mut **conn).await.map(|r| r.rows_affected()))?;
    if let Some(assignee) = f.assignee_id {
        activities::insert(
            &mut tx,
            actor,
            id,
            now,
            NewActivity::assignment(Some(assignee)),
        )
        .await?;
    }
    let out = get(&mut tx, id, now).await?.into_feedback();
    audit::record(
        &mut tx,
        actor,
        "create",
        "feedback",
        id,
        Change::created(&out),
    )
    .await?;
    events::record(&mut tx, actor, &CREATED, out.contact_id, &out).await?;
    tx.commit().await?;
    Ok(out)
}

async fn current_version(tx: &mut Tx, id: Uuid) -> Result<Option<i64>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT version FROM feedback WHERE id = $1")
        .bind(id).fetch_optional(&mut **c).await)?,
    )
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    before: &FeedbackRow,
    expected: i64,
    mut f: Fields,
    fill_account: bool,
) -> Result<Feedback, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let changed = Changed {
        contact: f.contact_id != before.contact_id,
        account: f.account_id != before.account_id,
        channel: f.channel_id != before.channel_id,
        assignee: f.assignee_id != before.assignee_id,
        fill_account,
    };
    let channel = check_references(&mut tx, &mut f, changed).await?;
    // New targets when what sets them changed; the time already spent waiting still counts.
    let recompute =
        before.kind().has_workflow() && (changed.channel || f.priority != before.priority());
    let (t, c) = if recompute {
        let (t, c) = service_levels(
            &mut tx,
            &f,
            channel,
            before.received_at,
            before.paused_micros,
        )
        .await?;
        (
            (
                Some(t.first_response_minutes),
                Some(t.resolution_business_days),
            ),
            (
                Some(c.first_response_due_at),
                Some(c.first_response_risk_at),
                Some(c.resolution_due_at),
                Some(c.resolution_risk_at),
            ),
        )
    } else {
        (
            (
                before.first_response_target_minutes,
                before.resolution_target_business_days,
            ),
            (
                before.first_response_due_at,
                before.first_response_risk_at,
                before.resolution_due_at,
                before.resolution_risk_at,
            ),
        )
    };
    let done = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE feedback SET text = $1, csat = $2, nps = $3, contact_id = $4, account_id = $5, channel_id = $6,
            category = $7, priority = $8, assignee_id = $9, first_response_target_minutes = $10,
            resolution_target_business_days = $11, first_response_due_at = $12, first_response_risk_at = $13,
            resolution_due_at = $14, resolution_risk_at = $15, version = version + 1, updated_at = $16,
            engagement_id = $19, ces = $20
         WHERE id = $17 AND version = $18"
    ).bind(&f.text).bind(f.csat).bind(f.nps).bind(f.contact_id).bind(f.account_id).bind(f.channel_id)
     .bind(&f.category).bind(f.priority.as_str()).bind(f.assignee_id).bind(t.0).bind(t.1)
     .bind(c.0).bind(c.1).bind(c.2).bind(c.3).bind(now).bind(before.id).bind(expected).bind(f.engagement_id).bind(f.ces)
     .execute(&mut **conn).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        let current = current_version(&mut tx, before.id).await?;
        return Err(current.map_or_else(|| ApiError::not_found("feedback", before.id), etag::stale));
    }
    if changed.assignee {
        activities::insert(
            &mut tx,
            actor,
            before.id,
            now,
            NewActivity::assignment(f.assignee_id),
        )
        .await?;
    }
    let out = get(&mut tx, before.id, now).await?.into_feedback();
    let change = Change::diff(&before.clone().into_feedback(), &out);
    audit::record(&mut tx, actor, "update", "feedback", before.id, change).await?;
    events::record(&mut tx, actor, &UPDATED, out.contact_id, &out).await?;
    tx.commit().await?;
    Ok(out)
}

/// Deletes an item and its activity log (the audit log keeps the record of both).
pub async fn delete(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    let version = current_version(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("feedback", id))?;
    etag::check(expected, version)?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM feedback_activities WHERE feedback_id = $1")
        .bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let done = on_tx!(&mut tx, c => sqlx::query("DELETE FROM feedback WHERE id = $1 AND version = $2")
        .bind(id).bind(version).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(etag::stale(version + 1));
    }
    audit::record(&mut tx, actor, "delete", "feedback", id, Change::none()).await?;
    events::record(&mut tx, actor, &DELETED, None, &events::ids(id)).await?;
    tx.commit().await?;
    Ok(())
}

/// Every item of a contact, oldest first (for the person export).
pub async fn all_of_contact(db: &Db, contact_id: Uuid) -> Result<Vec<Feedback>, ApiError> {
    let rows: Vec<FeedbackRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(
        select_sql("WHERE f.contact_id = $2 ORDER BY f.received_at, f.id")
    )).bind(now()).bind(contact_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(FeedbackRow::into_feedback).collect())
}
