//! Expiry: lots whose `expires_at` has passed give up their remaining points
//! through one `expire` entry per lot.
//!
//! It runs on every write to a member (before the write, so a redemption
//! never spends expired points), on reads that find something due, hourly in
//! the server, and from `rapport loyalty expire`. Running it twice expires
//! nothing twice: a lot is emptied by a conditional update
//! (`remaining = $seen`), and its entry's key `rapport expire <lot id>` is
//! unique per member.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    lots::lot_use,
    posting::{Post, append, lock_member_by_id},
    tiers::retier,
};
use crate::{
    audit::{self, Actor, Change},
    db::{Db, Tx},
    http::ApiError,
    loyalty::{ledger::EntryKind, members::MemberRow, repo::program},
    on_db, on_tx,
};

/// What one expiry run did.
#[derive(Debug, Default, Serialize, ToSchema, PartialEq, Eq)]
#[schema(example = json!({"members": 3, "lots": 4, "points": 730}))]
pub struct ExpiryReport {
    /// Members that lost points.
    pub members: i64,
    /// Lots emptied.
    pub lots: i64,
    /// Points expired in total.
    pub points: i64,
}

#[derive(sqlx::FromRow)]
struct DueLot {
    id: Uuid,
    remaining: i64,
    expires_at: Option<DateTime<Utc>>,
}

/// Expires this member's due lots inside the caller's transaction (the
/// member is locked). Returns `(lots, points)` expired.
pub async fn expire_due(
    tx: &mut Tx,
    member: &mut MemberRow,
    now: DateTime<Utc>,
) -> Result<(i64, i64), ApiError> {
    let due: Vec<DueLot> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, remaining, expires_at FROM loyalty_lots
         WHERE member_id = $1 AND remaining > 0 AND expires_at <= $2
         ORDER BY expires_at, created_at, id"
    ).bind(member.id).bind(now).fetch_all(&mut **c).await)?;
    let (mut lots, mut points) = (0, 0);
    let system = Actor::system();
    for lot in due {
        let emptied = on_tx!(tx, c => sqlx::query(
            "UPDATE loyalty_lots SET remaining = 0 WHERE id = $1 AND remaining = $2"
        ).bind(lot.id).bind(lot.remaining).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if emptied == 0 {
            continue;
        }
        let balance: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
            "UPDATE loyalty_members SET balance = balance - $1, updated_at = $2
             WHERE id = $3 AND balance >= $1 RETURNING balance"
        ).bind(lot.remaining).bind(now).bind(member.id).fetch_optional(&mut **c).await)?;
        member.balance = balance.ok_or_else(|| {
            ApiError::internal(format!(
                "loyalty member {}: lot {} holds more than the balance",
                member.id, lot.id
            ))
        })?;
        let key = format!("rapport expire {}", lot.id);
        let reason = lot
            .expires_at
            .map(|t| format!("Points expired on {}", t.format("%Y-%m-%d")));
        let post = Post {
            kind: EntryKind::Expire,
            reason: reason.as_deref(),
            key: &key,
            actor: &system,
            reverses: None,
            redemption_id: None,
            amount: None,
            now,
        };
        let entry = append(tx, member, -lot.remaining, 0, &post).await?;
        tx.append(lot_use(entry.id, lot.id, lot.remaining));
        lots += 1;
        points += lot.remaining;
    }
    if lots > 0 {
        audit::record(
            tx,
            &system,
            "expire",
            "loyalty_member",
            member.contact_id,
            Change::none()
                .with("points", -points)
                .with("lots", lots)
                .with("balance_after", member.balance),
        )
        .await?;
    }
    Ok((lots, points))
}

/// Expires every due lot of every member, one transaction per member.
pub async fn run(db: &Db, now: DateTime<Utc>) -> Result<ExpiryReport, ApiError> {
    let mut report = ExpiryReport::default();
    let mut after: Option<Uuid> = None;
    loop {
        let members: Vec<Uuid> = on_db!(db, pool => sqlx::query_scalar(
            "SELECT DISTINCT member_id FROM loyalty_lots
             WHERE remaining > 0 AND expires_at <= $1 AND ($2 IS NULL OR member_id > $2)
             ORDER BY member_id LIMIT 200"
        ).bind(now).bind(after).fetch_all(pool).await)?;
        let Some(last) = members.last().copied() else {
            break;
        };
        for member_id in members {
            let mut tx = db.begin().await?;
            let Some(mut member) = lock_member_by_id(&mut tx, member_id, now).await? else {
                continue;
            };
            let (lots, points) = expire_due(&mut tx, &mut member, now).await?;
            if lots > 0 {
                let program = program::get(&mut tx).await?;
                retier(&mut tx, &mut member, &program, None, now).await?;
                report.members += 1;
                report.lots += lots;
                report.points += points;
            }
            tx.commit().await?;
        }
        after = Some(last);
    }
    Ok(report)
}
