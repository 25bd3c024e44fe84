//! SQL for interactions (the merge and erase hooks are in `hooks`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::events::{CREATED, DELETED, UPDATED};
use super::{
    model::{
        Direction, Interaction, InteractionPatch, InteractionRow, InteractionType, NewInteraction,
        Purpose,
    },
    rules::{self, Changed, audit_change, needs_marketing_consent},
};
use crate::{
    audit::{self, Actor},
    channels::ChannelKind,
    db::{
        Db, Tx, is_foreign_key_violation, new_id, now,
        records::{Bind, Record},
        refs::{Active, References},
        sql::{self, Arg, Filters},
    },
    events,
    http::{
        ApiError, etag,
        pagination::{KeysetCursor, Sort, SortKind},
    },
    on_db, on_tx, preferences,
    preferences::quiet_hours,
    transactions::history,
};
use crate::{db::On, on};

const COLUMNS: &str = "id, contact_id, account_id, channel_id, direction, interaction_type, purpose, subject, summary, \
                       outcome, occurred_at, duration_seconds, handled_by, engagement_id, version, created_at, updated_at";

/// A reference that vanished between our check and the write (a concurrent delete).
fn gone_meanwhile() -> ApiError {
    ApiError::unprocessable(
        "A contact, account, channel or user this interaction refers to was deleted while it was being saved; \
         check the ids and retry.",
    )
}

/// Checks every reference the write sets or changes, reporting all problems
/// at once; fills the account from the contact when asked. Returns the
/// channel's kind.
async fn resolve(
    tx: &mut Tx,
    new: &mut NewInteraction,
    changed: Changed,
) -> Result<ChannelKind, ApiError> {
    let mut refs = References::new();
    // A deactivated channel keeps the interactions already on it.
    let active = if changed.channel {
        Active::Required {
            takes: "interactions",
        }
    } else {
        Active::Any
    };
    let channel = refs
        .channel(tx, "channel_id", Some(new.channel_id), active)
        .await?;
    let contact = new.contact_id.filter(|_| changed.contact);
    if let Some(account_id) = refs.contact(tx, "contact_id", contact).await?
        && changed.fill_account
    {
        new.account_id = account_id;
    }
    let account = new
        .account_id
        .filter(|_| changed.account && !changed.fill_account);
    refs.account(tx, "account_id", account).await?;
    let handler = new.handled_by.filter(|_| changed.handler);
    refs.user(tx, "handled_by", handler, Active::Any).await?;
    if let Err(e) = rules::require_party(new.contact_id, new.account_id) {
        refs.also(e);
    }
    refs.engagement(tx, "engagement_id", new.engagement_id, new.account_id)
        .await?;
    refs.finish()?;
    // Found (else `finish` refused); a kind outside the choices is an error, not a default.
    let kind = channel.map(|c| c.kind).unwrap_or_default();
    ChannelKind::parse(&kind).ok_or_else(|| {
        ApiError::internal(format!(
            "the channel {} has the unknown kind {kind:?}",
            new.channel_id
        ))
    })
}

/// Applies the contact's quiet hours to an outbound call or message, then
/// the consent and weekly-cap rules to an outbound marketing touch, when
/// something that decides them changed.
async fn enforce(
    tx: &mut Tx,
    new: &NewInteraction,
    kind: ChannelKind,
    changed: Changed,
    id: Option<Uuid>,
) -> Result<(), ApiError> {
    let Some(contact_id) = new.contact_id else {
        return Ok(());
    };
    if changed.quiet_hours && quiet_hours::applies(new.direction, new.interaction_type) {
        quiet_hours::enforce(tx, contact_id, new.interaction_type, new.occurred_at).await?;
    }
    if changed.marketing && needs_marketing_consent(new.direction, new.purpose) {
        preferences::repo::enforce_marketing(tx, contact_id, kind, new.occurred_at, id).await?;
    }
    Ok(())
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    mut new: NewInteraction,
    changed: Changed,
) -> Result<Interaction, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let kind = resolve(&mut tx, &mut new, changed).await?;
    enforce(&mut tx, &new, kind, changed, None).await?;
    let interaction = insert(&mut tx, &new, now).into_interaction();
    history::note_interaction(
        &mut tx,
        interaction.account_id,
        interaction.contact_id,
        interaction.occurred_at,
    );
    audit::record(
        &mut tx,
        actor,
        "create",
        "interaction",
        interaction.id,
        audit_change(None, Some(&interaction)),
    )
    .await?;
    events::record(
        &mut tx,
        actor,
        &CREATED,
        interaction.contact_id,
        &interaction,
    )
    .await?;
    // The row is written with the commit: a reference deleted since it was
    // checked shows there.
    match tx.commit().await {
        Ok(()) => Ok(interaction),
        Err(e) if is_foreign_key_violation(&e) => Err(gone_meanwhile()),
        Err(e) => Err(e.into()),
    }
}

/// Keeps the new row, built from its fields (nothing is read back), for the
/// transaction's next round trip.
fn insert(tx: &mut Tx, new: &NewInteraction, now: DateTime<Utc>) -> InteractionRow {
    let text = |v: &Option<String>| Bind::OptionalText(v.clone());
    let row = InteractionRow {
        id: new_id(),
        contact_id: new.contact_id,
        account_id: new.account_id,
        channel_id: new.channel_id,
        direction: new.direction,
        interaction_type: new.interaction_type,
        purpose: new.purpose,
        subject: new.subject.clone(),
        summary: new.summary.clone(),
        outcome: new.outcome.clone(),
        occurred_at: new.occurred_at,
        duration_seconds: new.duration_seconds,
        handled_by: new.handled_by,
        engagement_id: new.engagement_id,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    tx.append(Record::new(
        "INSERT INTO interactions (id, contact_id, account_id, channel_id, direction, interaction_type, purpose,
                                   subject, summary, outcome, occurred_at, duration_seconds, handled_by,
                                   engagement_id, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15)",
        vec![
            Bind::Uuid(row.id),
            Bind::OptionalUuid(row.contact_id),
            Bind::OptionalUuid(row.account_id),
            Bind::Uuid(row.channel_id),
            Bind::Text(row.direction.as_str().to_string()),
            Bind::Text(row.interaction_type.as_str().to_string()),
            Bind::Text(row.purpose.as_str().to_string()),
            text(&row.subject),
            text(&row.summary),
            text(&row.outcome),
            Bind::Time(row.occurred_at),
            Bind::OptionalInt(row.duration_seconds),
            Bind::OptionalUuid(row.handled_by),
            Bind::OptionalUuid(row.engagement_id),
            Bind::Time(now),
        ],
    ));
    row
}

pub async fn get<'a>(on: impl Into<On<'a>>, id: Uuid) -> Result<InteractionRow, ApiError> {
    let row: Option<InteractionRow> = on!(on.into(), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM interactions WHERE id = $1"
    ))).bind(id).fetch_optional(e).await)?;
    row.ok_or_else(|| ApiError::not_found("interaction", id))
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
    patch: InteractionPatch,
) -> Result<Interaction, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let current = get(&mut tx, id).await?;
    etag::check(expected, current.version)?;
    let (mut new, changed) = rules::patched(&current, patch, now)?;
    let kind = resolve(&mut tx, &mut new, changed).await?;
    enforce(&mut tx, &new, kind, changed, Some(id)).await?;
    let updated = on_tx!(&mut tx, c => sqlx::query_as::<_, InteractionRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE interactions SET contact_id = $1, account_id = $2, channel_id = $3, direction = $4,
                interaction_type = $5, purpose = $6, subject = $7, summary = $8, outcome = $9, occurred_at = $10,
                duration_seconds = $11, handled_by = $12, engagement_id = $13, version = version + 1,
                updated_at = $14
         WHERE id = $15 AND version = $16 RETURNING {COLUMNS}"
    ))).bind(new.contact_id).bind(new.account_id).bind(new.channel_id).bind(new.direction.as_str())
       .bind(new.interaction_type.as_str()).bind(new.purpose.as_str()).bind(&new.subject).bind(&new.summary)
       .bind(&new.outcome).bind(new.occurred_at).bind(new.duration_seconds).bind(new.handled_by)
       .bind(new.engagement_id).bind(now)
       .bind(id).bind(current.version).fetch_optional(&mut **c).await);
    let interaction = match updated {
        Ok(Some(row)) => row.into_interaction(),
        Ok(None) => return Err(etag::stale(current.version + 1)),
        Err(e) if is_foreign_key_violation(&e) => return Err(gone_meanwhile()),
        Err(e) => return Err(e.into()),
    };
    let before = current.into_interaction();
    history::refresh_last_interaction(&mut tx, &[before.parties(), interaction.parties()]).await?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "interaction",
        id,
        audit_change(Some(&before), Some(&interaction)),
    )
    .await?;
    events::record(
        &mut tx,
        actor,
        &UPDATED,
        interaction.contact_id,
        &interaction,
    )
    .await?;
    tx.commit().await?;
    Ok(interaction)
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
    let deleted = on_tx!(&mut tx, c => sqlx::query("DELETE FROM interactions WHERE id = $1 AND version = $2")
        .bind(id).bind(current.version).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if deleted == 0 {
        return Err(etag::stale(current.version + 1));
    }
    let before = current.into_interaction();
    history::refresh_last_interaction(&mut tx, &[before.parties()]).await?;
    audit::record(
        &mut tx,
        actor,
        "delete",
        "interaction",
        id,
        audit_change(Some(&before), None),
    )
    .await?;
    events::record(
        &mut tx,
        actor,
        &DELETED,
        before.contact_id,
        &events::ids(id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every interaction with a contact, oldest first (for the person export).
pub async fn all_of_contact(db: &Db, contact_id: Uuid) -> Result<Vec<Interaction>, ApiError> {
    let rows: Vec<InteractionRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM interactions WHERE contact_id = $1 ORDER BY occurred_at, id"
    ))).bind(contact_id).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(InteractionRow::into_interaction)
        .collect())
}

/// The one sort the list offers: `-occurred_at` (default) or `occurred_at`.
pub const SORTS: [(&str, &str, SortKind); 1] = [("occurred_at", "occurred_at", SortKind::Time)];
pub const DEFAULT_SORT: &str = "-occurred_at";

/// The list filters, typed.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub direction: Option<Direction>,
    pub interaction_type: Option<InteractionType>,
    pub purpose: Option<Purpose>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub handled_by: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
}

/// One page (plus one row) in `(occurred_at, id)` order, keyset-paginated.
/// Only the filters sent become conditions, so each query can use the
/// matching `(column, occurred_at, id)` index.
pub async fn list(
    db: &Db,
    q: &ListQuery,
    sort: &Sort,
    cursor: Option<KeysetCursor>,
    limit: i64,
) -> Result<Vec<InteractionRow>, ApiError> {
    let mut f = Filters::new();
    let ids = [
        ("contact_id = {}", q.contact_id),
        ("account_id = {}", q.account_id),
        ("channel_id = {}", q.channel_id),
        ("handled_by = {}", q.handled_by),
        ("engagement_id = {}", q.engagement_id),
    ];
    for (clause, value) in ids {
        if let Some(v) = value {
            f.when(clause, Arg::Uuid(v));
        }
    }
    let texts = [
        ("direction = {}", q.direction.map(Direction::as_str)),
        (
            "interaction_type = {}",
            q.interaction_type.map(InteractionType::as_str),
        ),
        ("purpose = {}", q.purpose.map(Purpose::as_str)),
    ];
    for (clause, value) in texts {
        if let Some(v) = value {
            f.when(clause, Arg::Text(v.to_string()));
        }
    }
    if let Some(t) = q.from {
        f.when("occurred_at >= {}", Arg::Time(t));
    }
    if let Some(t) = q.to {
        f.when("occurred_at < {}", Arg::Time(t));
    }
    let select = format!("SELECT {COLUMNS} FROM interactions");
    sql::keyset_page(db, &select, f, sort, cursor, "id", limit).await
}
