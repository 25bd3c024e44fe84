//! A member's tier: the points that count towards it, and moving it when
//! they cross a threshold, inside the posting's transaction.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    audit::Actor,
    db::{On, Tx, new_id},
    http::ApiError,
    loyalty::{
        events,
        members::{MemberRow, TierChange},
        program::{ProgramRow, TierBasis, standing, window_start},
    },
    on, on_tx,
};

/// The points that count towards tiers now.
pub async fn tier_points<'a>(
    on: impl Into<On<'a>>,
    member: &MemberRow,
    program: &ProgramRow,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    match (program.basis(), program.tier_window_months) {
        (TierBasis::Rolling, Some(months)) => {
            Ok(on!(on.into(), e => sqlx::query_scalar(WINDOW_SUM)
            .bind(member.id).bind(window_start(now, months)).fetch_one(e).await)?)
        }
        _ => Ok(member.lifetime_points),
    }
}

/// Qualifying points inside a rolling window.
pub(crate) const WINDOW_SUM: &str = "SELECT CAST(COALESCE(SUM(qualifying_points), 0) AS BIGINT) FROM loyalty_ledger \
     WHERE member_id = $1 AND created_at > $2";

/// Recomputes the member's tier; records and returns a change.
pub async fn retier(
    tx: &mut Tx,
    member: &mut MemberRow,
    program: &ProgramRow,
    entry_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<TierChange>, ApiError> {
    let points = tier_points(&mut *tx, member, program, now).await?;
    let tier = standing(&program.tiers.0, points).tier;
    if tier == member.tier {
        return Ok(None);
    }
    on_tx!(tx, c => sqlx::query("UPDATE loyalty_members SET tier = $1, tier_since = $2 WHERE id = $3")
        .bind(&tier).bind(now).bind(member.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let change = TierChange {
        id: new_id(),
        from_tier: Some(std::mem::replace(&mut member.tier, tier.clone())),
        to_tier: tier,
        tier_points: points,
        entry_id,
        occurred_at: now,
    };
    member.tier_since = now;
    record_tier_change(tx, member.id, &change).await?;
    // Tiers follow the points, so the programme itself made the move.
    let data = serde_json::json!({"member_id": member.id, "contact_id": member.contact_id, "change": &change});
    crate::events::record(
        tx,
        &Actor::system(),
        &events::TIER_CHANGED,
        Some(member.contact_id),
        &data,
    )
    .await?;
    Ok(Some(change))
}

pub async fn record_tier_change(
    tx: &mut Tx,
    member_id: Uuid,
    change: &TierChange,
) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO loyalty_tier_changes (id, member_id, from_tier, to_tier, tier_points, entry_id, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ).bind(change.id).bind(member_id).bind(&change.from_tier).bind(&change.to_tier).bind(change.tier_points)
     .bind(change.entry_id).bind(change.occurred_at).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
