//! Enrolment and member reads.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{
    MEMBER_COLUMNS, expiry, not_a_member,
    posting::lock_member,
    program,
    tiers::{record_tier_change, retier, tier_points},
};
use crate::{
    audit::{self, Actor, Change},
    db::{Db, is_unique_violation, new_id, now},
    http::ApiError,
    loyalty::{
        members::{ExpiringPoints, Member, MemberRow, TierChange},
        program::standing,
    },
    on_db, on_tx,
};

/// How far ahead `expiring_soon` looks.
pub const EXPIRING_SOON_DAYS: i64 = 30;

fn already_member(contact_id: Uuid) -> ApiError {
    ApiError::conflict(format!(
        "The contact {contact_id} is already a loyalty member."
    ))
    .with("contact_id", contact_id)
}

/// Enrols a contact in the lowest tier.
pub async fn enrol(db: &Db, actor: &Actor, contact_id: Uuid) -> Result<MemberRow, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let live: Option<Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT id FROM contacts WHERE id = $1 AND deleted_at IS NULL"
    ).bind(contact_id).fetch_optional(&mut **c).await)?;
    if live.is_none() {
        return Err(ApiError::field(
            "contact_id",
            "unknown_contact",
            format!("no contact has the id {contact_id}"),
        ));
    }
    let existing: Option<Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT id FROM loyalty_members WHERE contact_id = $1 AND merged_into IS NULL"
    ).bind(contact_id).fetch_optional(&mut **c).await)?;
    if existing.is_some() {
        return Err(already_member(contact_id));
    }
    let program = program::get(&mut tx).await?;
    let tier = standing(&program.tiers.0, 0).tier;
    let row: MemberRow = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO loyalty_members (id, contact_id, balance, lifetime_points, tier, tier_since, enrolled_at, updated_at)
         VALUES ($1, $2, 0, 0, $3, $4, $4, $4) RETURNING {MEMBER_COLUMNS}"
    ))).bind(new_id()).bind(contact_id).bind(&tier).bind(now).fetch_one(&mut **c).await)
        .map_err(|e| if is_unique_violation(&e) { already_member(contact_id) } else { e.into() })?;
    let joined = TierChange {
        id: new_id(),
        from_tier: None,
        to_tier: tier,
        tier_points: 0,
        entry_id: None,
        occurred_at: now,
    };
    record_tier_change(&mut tx, row.id, &joined).await?;
    audit::record(
        &mut tx,
        actor,
        "enrol",
        "loyalty_member",
        contact_id,
        Change::created(&row.clone().summary()),
    )
    .await?;
    crate::events::record(
        &mut tx,
        actor,
        &crate::loyalty::events::MEMBER_ENROLLED,
        Some(contact_id),
        &row.clone().summary(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

async fn find_if_member(db: &Db, contact_id: Uuid) -> Result<Option<MemberRow>, ApiError> {
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM loyalty_members m
         WHERE contact_id = $1 AND merged_into IS NULL
           AND EXISTS (SELECT 1 FROM contacts c WHERE c.id = m.contact_id AND c.deleted_at IS NULL)"
    ))).bind(contact_id).fetch_optional(pool).await)?,
    )
}

async fn find(db: &Db, contact_id: Uuid) -> Result<MemberRow, ApiError> {
    find_if_member(db, contact_id)
        .await?
        .ok_or_else(|| not_a_member(contact_id))
}

/// A member with its standing (404 when the contact is not a member). When
/// points are due to expire, or the tier no longer matches (the programme
/// changed, or a rolling window moved on), the member is brought up to date
/// first, so a read never shows stale points.
pub async fn get(db: &Db, contact_id: Uuid) -> Result<Member, ApiError> {
    get_if_member(db, contact_id)
        .await?
        .ok_or_else(|| not_a_member(contact_id))
}

/// [`get`], or `None` when the contact is not a member.
pub async fn get_if_member(db: &Db, contact_id: Uuid) -> Result<Option<Member>, ApiError> {
    let now = now();
    let Some(mut row) = find_if_member(db, contact_id).await? else {
        return Ok(None);
    };
    let program = program::get(db).await?;
    let mut points = tier_points(db, &row, &program, now).await?;
    // The soonest expiry of the open lots, from their index (see `open::find`).
    let due: bool = on_db!(db, pool => sqlx::query_scalar(
        "SELECT COALESCE((SELECT MIN(expires_at) FROM loyalty_lots WHERE member_id = $1 AND remaining > 0) <= $2, FALSE)"
    ).bind(row.id).bind(now).fetch_one(pool).await)?;
    if due || standing(&program.tiers.0, points).tier != row.tier {
        refresh(db, contact_id, now).await?;
        row = find(db, contact_id).await?;
        points = tier_points(db, &row, &program, now).await?;
    }
    let expiring_soon: Vec<ExpiringPoints> = on_db!(db, pool => sqlx::query_as(
        "SELECT CAST(SUM(remaining) AS BIGINT) AS points, expires_at FROM loyalty_lots
         WHERE member_id = $1 AND remaining > 0 AND expires_at > $2 AND expires_at <= $3
         GROUP BY expires_at ORDER BY expires_at"
    ).bind(row.id).bind(now).bind(now + Duration::days(EXPIRING_SOON_DAYS)).fetch_all(pool).await)?;
    let standing = standing(&program.tiers.0, points);
    Ok(Some(Member {
        id: row.id,
        contact_id: row.contact_id,
        balance: row.balance,
        lifetime_points: row.lifetime_points,
        tier: row.tier,
        tier_since: row.tier_since,
        tier_points: points,
        next_tier: standing.next_tier,
        points_to_next_tier: standing.points_to_next_tier,
        expiring_soon,
        enrolled_at: row.enrolled_at,
        updated_at: row.updated_at,
    }))
}

/// Expires due points and re-tiers one member.
pub async fn refresh(db: &Db, contact_id: Uuid, now: DateTime<Utc>) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    let mut member = lock_member(&mut tx, contact_id, now).await?;
    let program = program::get(&mut tx).await?;
    expiry::expire_due(&mut tx, &mut member, now).await?;
    retier(&mut tx, &mut member, &program, None, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Live members in enrolment order, optionally in one tier.
pub async fn list(
    db: &Db,
    tier: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<MemberRow>, ApiError> {
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM loyalty_members m
         WHERE merged_into IS NULL AND ($1 IS NULL OR tier = $1) AND ($2 IS NULL OR id > $2)
           AND EXISTS (SELECT 1 FROM contacts c WHERE c.id = m.contact_id AND c.deleted_at IS NULL)
         ORDER BY id LIMIT $3"
    ))).bind(tier).bind(after).bind(limit + 1).fetch_all(pool).await)?,
    )
}

/// Tier changes of every membership the contact holds or absorbed, newest first.
pub async fn tier_history(
    db: &Db,
    contact_id: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<TierChange>, ApiError> {
    find(db, contact_id).await?;
    let (at, id) = before
        .map(|(a, i)| (Some(a), Some(i)))
        .unwrap_or((None, None));
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT t.id, t.from_tier, t.to_tier, t.tier_points, t.entry_id, t.occurred_at
         FROM loyalty_tier_changes t JOIN loyalty_members m ON m.id = t.member_id
         WHERE m.contact_id = $1 AND ($2 IS NULL OR (t.occurred_at, t.id) < ($2, $3))
         ORDER BY t.occurred_at DESC, t.id DESC LIMIT $4"
    ).bind(contact_id).bind(at).bind(id).bind(limit + 1).fetch_all(pool).await)?)
}
