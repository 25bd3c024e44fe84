//! SQL for preferences, consent and the marketing rules.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::events::CONSENT_CHANGED;
use super::{
    model::{Consent, ConsentRow, NewPreferences, Preferences, PreferencesRow, QuietHours},
    rules::{CAP_WINDOW, Refusal, marketing_allowed},
};
use crate::{
    audit::{self, Actor, Change},
    channels::ChannelKind,
    db::{Db, Tx, new_id, now},
    events,
    http::{ApiError, etag},
    on_db, on_tx,
};
use crate::{db::On, on};

const CONSENT_COLUMNS: &str =
    "id, channel_kind, purpose, granted, source, legal_basis, recorded_at, actor_type, actor_id";
const PREFERENCE_COLUMNS: &str = "preferred_channel_kind, language, quiet_hours_start, quiet_hours_end, weekly_marketing_cap, version, updated_at";

/// The consent in force per (channel_kind, purpose): the latest statement of each pair.
fn current_consents_sql() -> String {
    format!(
        "SELECT {CONSENT_COLUMNS} FROM contact_consents c
         WHERE c.contact_id = $1 AND NOT EXISTS (
             SELECT 1 FROM contact_consents n
             WHERE n.contact_id = c.contact_id AND n.channel_kind = c.channel_kind AND n.purpose = c.purpose
               AND (n.recorded_at, n.id) > (c.recorded_at, c.id))
         ORDER BY c.channel_kind, c.purpose"
    )
}

fn assemble(
    contact_id: Uuid,
    time_zone: Option<String>,
    row: Option<PreferencesRow>,
    consents: Vec<ConsentRow>,
) -> Preferences {
    let row = row.as_ref();
    Preferences {
        contact_id,
        time_zone,
        preferred_channel_kind: row
            .and_then(|r| r.preferred_channel_kind.as_deref())
            .and_then(ChannelKind::parse),
        language: row.and_then(|r| r.language.clone()),
        quiet_hours: row.and_then(|r| match (&r.quiet_hours_start, &r.quiet_hours_end) {
            (Some(start), Some(end)) => Some(QuietHours {
                start: start.clone(),
                end: end.clone(),
            }),
            _ => None,
        }),
        weekly_marketing_cap: row.and_then(|r| r.weekly_marketing_cap),
        consents: consents.into_iter().map(ConsentRow::into_consent).collect(),
        version: row.map_or(0, |r| r.version),
        updated_at: row.map(|r| r.updated_at),
    }
}

/// The contact's time zone, or 404 when there is no such (live) contact.
async fn contact_time_zone<'a>(
    on: impl Into<On<'a>>,
    contact_id: Uuid,
) -> Result<Option<String>, ApiError> {
    let found: Option<(Option<String>,)> = on!(on.into(), e => sqlx::query_as(
        "SELECT time_zone FROM contacts WHERE id = $1 AND deleted_at IS NULL"
    ).bind(contact_id).fetch_optional(e).await)?;
    found
        .map(|(tz,)| tz)
        .ok_or_else(|| ApiError::not_found("contact", contact_id))
}

/// The contact's preferences and the consent in force (404 when there is no
/// such live contact).
pub async fn get<'a>(on: impl Into<On<'a>>, contact_id: Uuid) -> Result<Preferences, ApiError> {
    let mut on = on.into();
    let time_zone = contact_time_zone(on.reborrow(), contact_id).await?;
    let row: Option<PreferencesRow> = on!(on.reborrow(), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PREFERENCE_COLUMNS} FROM contact_preferences WHERE contact_id = $1"
    ))).bind(contact_id).fetch_optional(e).await)?;
    let consents: Vec<ConsentRow> = on!(on, e => sqlx::query_as(sqlx::AssertSqlSafe(current_consents_sql()))
        .bind(contact_id).fetch_all(e).await)?;
    Ok(assemble(contact_id, time_zone, row, consents))
}

/// Serialises everything that reads or changes a contact's consent on
/// PostgreSQL (SQLite's single writer does that already): consent changes and
/// the marketing check of a new interaction cannot interleave.
pub async fn lock_contact(tx: &mut Tx, contact_id: Uuid) -> Result<(), ApiError> {
    tx.lock_rows(
        "SELECT id FROM contacts WHERE id = $1 FOR UPDATE",
        Some(contact_id),
    )
    .await?;
    Ok(())
}

/// Replaces the preferences and appends the consent statements that change
/// something, in one transaction with its audit event.
pub async fn put(
    db: &Db,
    actor: &Actor,
    contact_id: Uuid,
    expected: Option<i64>,
    input: &NewPreferences,
) -> Result<Preferences, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    lock_contact(&mut tx, contact_id).await?;
    let before = get(&mut tx, contact_id).await?;
    let erased: Option<(Option<DateTime<Utc>>,)> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT erased_at FROM contacts WHERE id = $1"
    ).bind(contact_id).fetch_optional(&mut **c).await)?;
    if erased.is_some_and(|(at,)| at.is_some()) {
        return Err(ApiError::conflict(
            "The contact's personal data was erased; their preferences cannot be set again. Their consent \
             history is kept as evidence and can still be read.",
        ));
    }
    etag::check(expected, before.version)?;
    let (start, end) = match &input.quiet_hours {
        Some(q) => (Some(q.start.as_str()), Some(q.end.as_str())),
        None => (None, None),
    };
    let saved = on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO contact_preferences (contact_id, preferred_channel_kind, language, quiet_hours_start,
                                          quiet_hours_end, weekly_marketing_cap, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)
         ON CONFLICT (contact_id) DO UPDATE SET
             preferred_channel_kind = excluded.preferred_channel_kind, language = excluded.language,
             quiet_hours_start = excluded.quiet_hours_start, quiet_hours_end = excluded.quiet_hours_end,
             weekly_marketing_cap = excluded.weekly_marketing_cap,
             version = contact_preferences.version + 1, updated_at = excluded.updated_at
         WHERE contact_preferences.version = $8"
    ).bind(contact_id).bind(input.preferred_channel_kind.map(|k| k.as_str())).bind(&input.language)
     .bind(start).bind(end).bind(input.weekly_marketing_cap).bind(now).bind(before.version)
     .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if saved == 0 {
        return Err(etag::stale(before.version + 1));
    }
    let current_of = |consent: &crate::preferences::model::NewConsent| {
        before
            .consents
            .iter()
            .find(|c| c.channel_kind == consent.channel_kind && c.purpose == consent.purpose)
    };
    let too_old: Vec<_> = input
        .consents
        .iter()
        .enumerate()
        .filter(|(_, consent)| consent.differs_from(current_of(consent)))
        .filter_map(|(i, consent)| consent.too_old(now, i))
        .collect();
    if !too_old.is_empty() {
        return Err(ApiError::validation(too_old));
    }
    for consent in &input.consents {
        let current = current_of(consent);
        if !consent.differs_from(current) {
            continue;
        }
        let actor_id = (actor.kind != "system").then_some(actor.id);
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO contact_consents (id, contact_id, channel_kind, purpose, granted, source, legal_basis,
                                           recorded_at, actor_type, actor_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ).bind(new_id()).bind(contact_id).bind(consent.channel_kind.as_str()).bind(consent.purpose.as_str())
         .bind(consent.granted).bind(&consent.source).bind(consent.legal_basis.as_str())
         .bind(consent.recorded_at.unwrap_or(now)).bind(actor.kind).bind(actor_id).bind(now)
         .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    let after = get(&mut tx, contact_id).await?;
    audit::record(
        &mut tx,
        actor,
        "update_preferences",
        "contact",
        contact_id,
        Change::diff(&before, &after),
    )
    .await?;
    events::record(&mut tx, actor, &CONSENT_CHANGED, Some(contact_id), &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// The consent history of a contact, newest first by (recorded_at, id).
pub async fn history(
    db: &Db,
    contact_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ConsentRow>, ApiError> {
    let exists: Option<(Uuid,)> = on_db!(db, pool => sqlx::query_as("SELECT id FROM contacts WHERE id = $1 AND deleted_at IS NULL")
        .bind(contact_id).fetch_optional(pool).await)?;
    if exists.is_none() {
        return Err(ApiError::not_found("contact", contact_id));
    }
    let keyset = if after.is_some() {
        "AND (recorded_at, id) < ($2, $3)"
    } else {
        ""
    };
    let (t, id) = after.unzip();
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONSENT_COLUMNS} FROM contact_consents WHERE contact_id = $1 {keyset}
         ORDER BY recorded_at DESC, id DESC LIMIT $4"
    ))).bind(contact_id).bind(t).bind(id).bind(limit + 1).fetch_all(pool).await)?,
    )
}

/// Every consent statement of a contact, oldest first (for the person export).
pub async fn all_consents(db: &Db, contact_id: Uuid) -> Result<Vec<Consent>, ApiError> {
    let rows: Vec<ConsentRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONSENT_COLUMNS} FROM contact_consents WHERE contact_id = $1 ORDER BY recorded_at, id"
    ))).bind(contact_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(ConsentRow::into_consent).collect())
}

/// Refuses (409, nothing written) an outbound marketing touch with a contact
/// at `at` on a channel of `kind` unless the consent in force at `at` for
/// `kind`/marketing is granted and no 7-day window holding the touch would
/// exceed the contact's weekly cap (not counting `exclude`, the interaction
/// being edited). Run inside the transaction that writes the interaction: the
/// contact's row lock makes concurrent checks for one contact take turns.
pub async fn enforce_marketing(
    tx: &mut Tx,
    contact_id: Uuid,
    kind: ChannelKind,
    at: DateTime<Utc>,
    exclude: Option<Uuid>,
) -> Result<(), ApiError> {
    lock_contact(tx, contact_id).await?;
    let consent: Option<(bool, DateTime<Utc>)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT granted, recorded_at FROM contact_consents
         WHERE contact_id = $1 AND channel_kind = $2 AND purpose = 'marketing' AND recorded_at <= $3
         ORDER BY recorded_at DESC, id DESC LIMIT 1"
    ).bind(contact_id).bind(kind.as_str()).bind(at).fetch_optional(&mut **c).await)?;
    let cap: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT weekly_marketing_cap FROM contact_preferences WHERE contact_id = $1"
    ).bind(contact_id).fetch_optional(&mut **c).await)?
    .flatten();
    let nearby: Vec<DateTime<Utc>> = match cap {
        None => vec![],
        Some(_) => on_tx!(tx, c => sqlx::query_scalar(
            "SELECT occurred_at FROM interactions
             WHERE contact_id = $1 AND direction = 'outbound' AND purpose = 'marketing'
               AND occurred_at > $2 AND occurred_at < $3 AND id <> $4
             ORDER BY occurred_at"
        ).bind(contact_id).bind(at - CAP_WINDOW).bind(at + CAP_WINDOW).bind(exclude.unwrap_or(Uuid::nil()))
         .fetch_all(&mut **c).await)?,
    };
    marketing_allowed(consent, cap, &nearby, at)
        .map_err(|r: Refusal| r.into_error(contact_id, kind))
}

/// Moves a merged duplicate's consent history to the survivor (the latest
/// statement per pair, from either, is then in force) and keeps the
/// survivor's preferences, or the duplicate's when the survivor has none.
pub async fn reassign_contact(tx: &mut Tx, from: Uuid, to: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query("UPDATE contact_consents SET contact_id = $1 WHERE contact_id = $2")
        .bind(to).bind(from).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let survivor_has: Option<(i64,)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT version FROM contact_preferences WHERE contact_id = $1"
    ).bind(to).fetch_optional(&mut **c).await)?;
    if survivor_has.is_some() {
        on_tx!(tx, c => sqlx::query("DELETE FROM contact_preferences WHERE contact_id = $1")
            .bind(from).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    } else {
        on_tx!(tx, c => sqlx::query(
            "UPDATE contact_preferences SET contact_id = $1, version = version + 1, updated_at = $2 WHERE contact_id = $3"
        ).bind(to).bind(now()).bind(from).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Deletes the contact's preferences (language, quiet hours… are personal
/// data). Consent statements are kept: they are the evidence that marketing
/// was lawful and that a withdrawal was honoured; only their free-text
/// `source` (which could name the person) becomes `[erased]`.
pub async fn erase_contact(tx: &mut Tx, contact_id: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query("DELETE FROM contact_preferences WHERE contact_id = $1")
        .bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("UPDATE contact_consents SET source = $1 WHERE contact_id = $2")
        .bind(crate::domain::ERASED).bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
