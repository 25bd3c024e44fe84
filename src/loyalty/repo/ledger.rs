//! Ledger writes (earn, redeem, adjust, reverse) and reads.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    ENTRY_SELECT, batch, expiry, not_a_member,
    open::{Open, finish, open},
    posting::{Lock, Post, Posted, credit, debit, write_entry},
};
use crate::{
    audit::Actor,
    db::{Db, Tx},
    http::ApiError,
    loyalty::{
        ledger::{EntryKind, EntryRow, LotMovement},
        program::{ProgramRow, lot_expiry},
    },
    on_db, on_tx,
};
use crate::{db::On, on};

/// What a write asks for, apart from the points.
pub struct Request<'a> {
    pub contact_id: Uuid,
    pub key: &'a str,
    pub reason: Option<&'a str>,
    pub actor: &'a Actor,
}

impl<'a> Request<'a> {
    fn post(&self, kind: EntryKind, now: DateTime<Utc>) -> Post<'a> {
        Post {
            kind,
            reason: self.reason,
            key: self.key,
            actor: self.actor,
            reverses: None,
            redemption_id: None,
            amount: None,
            now,
        }
    }
}

/// Credits earned points as one lot that expires under the programme's policy.
/// `program` is the programme the points were computed with.
pub async fn earn(
    db: &Db,
    req: &Request<'_>,
    program: ProgramRow,
    points: i64,
    amount: Option<(i64, &str)>,
) -> Result<Posted, ApiError> {
    let earning = batch::Earning {
        id: batch::next_id(),
        key: req.key.to_string(),
        reason: req.reason.map(str::to_string),
        actor: req.actor.clone(),
        points,
        amount: amount.map(|(a, c)| (a, c.to_string())),
        now: crate::db::now(),
        claim: crate::db::claim::current(),
        answer: None,
    };
    if let Some(posted) = batch::earn(db, req.contact_id, earning, &program).await? {
        return Ok(posted);
    }
    // Alone, under the member's lock.
    let mut open = open(db, req.contact_id, req.key, Some(program)).await?;
    let post = Post {
        amount,
        ..req.post(EntryKind::Earn, open.now)
    };
    let posted = credit_lot(&mut open, points, &post).await?;
    finish(open, req.actor, posted).await
}

/// Credits `points` that count towards lifetime points, as one lot that
/// expires under the programme's policy.
async fn credit_lot(open: &mut Open, points: i64, post: &Post<'_>) -> Result<Posted, ApiError> {
    let expires_at = lot_expiry(open.now, open.program.expiry_months);
    let lots = [(points, expires_at)];
    credit(
        &mut open.tx,
        &mut open.member,
        points,
        points,
        &lots,
        post,
        Lock::Take,
    )
    .await
}

/// Spends points, oldest-expiring lots first; 409 when the balance is short.
pub async fn redeem(db: &Db, req: &Request<'_>, points: i64) -> Result<Posted, ApiError> {
    let mut open = open(db, req.contact_id, req.key, None).await?;
    let post = req.post(EntryKind::Redeem, open.now);
    let posted = debit(&mut open.tx, &mut open.member, points, 0, None, &post).await?;
    finish(open, req.actor, posted).await
}

/// A staff correction: positive adds a lot, negative spends like a redemption.
/// Either way it counts towards lifetime points.
pub async fn adjust(db: &Db, req: &Request<'_>, points: i64) -> Result<Posted, ApiError> {
    let mut open = open(db, req.contact_id, req.key, None).await?;
    let post = req.post(EntryKind::Adjust, open.now);
    let posted = if points > 0 {
        credit_lot(&mut open, points, &post).await?
    } else {
        debit(&mut open.tx, &mut open.member, -points, points, None, &post).await?
    };
    finish(open, req.actor, posted).await
}

/// Writes the exact opposite of an entry.
pub async fn reverse(db: &Db, req: &Request<'_>, entry_id: Uuid) -> Result<Posted, ApiError> {
    let mut open = open(db, req.contact_id, req.key, None).await?;
    let original = entry(&mut open.tx, open.member.id, entry_id).await?;
    match original.kind() {
        EntryKind::Expire => {
            return Err(ApiError::conflict(
                "Expired points cannot be reversed; give them back with an adjustment (POST …/adjust).",
            ));
        }
        EntryKind::Reverse => {
            return Err(ApiError::conflict("A reversal cannot itself be reversed."));
        }
        _ => {}
    }
    if let Some(redemption_id) = original.redemption_id {
        return Err(ApiError::conflict(format!(
            "This entry belongs to the reward redemption {redemption_id}: cancel it with POST /v1/loyalty/redemptions/{redemption_id}/cancel, which also restores the stock."
        ))
        .with("redemption_id", redemption_id));
    }
    if let Some(reversal) = reversal_of(&mut open.tx, entry_id).await? {
        return Err(ApiError::conflict("This entry was already reversed.")
            .with("reversal_entry_id", reversal));
    }
    let post = Post {
        reverses: Some(entry_id),
        ..req.post(EntryKind::Reverse, open.now)
    };
    let posted = undo(&mut open, &original, &post).await?;
    finish(open, req.actor, posted).await
}

/// Posts the opposite of `original`: a credit is taken back (from its own lot
/// first), a debit is given back into lots with the expiry dates it was
/// taken from (already past ones expire at once).
pub(crate) async fn undo(
    open: &mut Open,
    original: &EntryRow,
    post: &Post<'_>,
) -> Result<Posted, ApiError> {
    let posted = if original.points > 0 {
        let own_lot: Option<Uuid> = on_tx!(&mut open.tx, c => sqlx::query_scalar(
            "SELECT id FROM loyalty_lots WHERE entry_id = $1 ORDER BY id LIMIT 1"
        ).bind(original.id).fetch_optional(&mut **c).await)?;
        debit(
            &mut open.tx,
            &mut open.member,
            original.points,
            -original.qualifying_points,
            own_lot,
            post,
        )
        .await?
    } else {
        let taken = lots_of(&mut open.tx, original).await?;
        let lots: Vec<(i64, Option<DateTime<Utc>>)> =
            taken.iter().map(|l| (l.points, l.expires_at)).collect();
        credit(
            &mut open.tx,
            &mut open.member,
            -original.points,
            -original.qualifying_points,
            &lots,
            post,
            Lock::Take,
        )
        .await?
    };
    // Lots given back with a past expiry date expire at once, after the entry.
    write_entry(&mut open.tx, &posted.entry).await?;
    expiry::expire_due(&mut open.tx, &mut open.member, open.now).await?;
    Ok(posted)
}

async fn reversal_of(tx: &mut Tx, entry_id: Uuid) -> Result<Option<Uuid>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM loyalty_ledger WHERE reverses_id = $1")
        .bind(entry_id).fetch_optional(&mut **c).await)?,
    )
}

fn no_entry(entry_id: Uuid) -> ApiError {
    ApiError::not_found_detail(format!(
        "This member's ledger has no entry with the id {entry_id}."
    ))
}

/// An entry of one member's ledger.
pub(crate) async fn entry<'a>(
    on: impl Into<On<'a>>,
    member_id: Uuid,
    entry_id: Uuid,
) -> Result<EntryRow, ApiError> {
    let row: Option<EntryRow> = on!(on.into(), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ENTRY_SELECT} WHERE e.id = $1 AND e.member_id = $2"
    ))).bind(entry_id).bind(member_id).fetch_optional(e).await)?;
    row.ok_or_else(|| no_entry(entry_id))
}

/// An entry by id alone: a redemption's entry may sit in the ledger of a
/// membership since merged into the one now holding the redemption.
pub(crate) async fn entry_by_id<'a>(
    on: impl Into<On<'a>>,
    entry_id: Uuid,
) -> Result<EntryRow, ApiError> {
    let row: Option<EntryRow> = on!(on.into(), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ENTRY_SELECT} WHERE e.id = $1"
    ))).bind(entry_id).fetch_optional(e).await)?;
    row.ok_or_else(|| no_entry(entry_id))
}

const CREDITED_LOTS: &str = "SELECT id AS lot_id, points, expires_at FROM loyalty_lots WHERE entry_id = $1 ORDER BY created_at, id";
const DEBITED_LOTS: &str = "SELECT u.lot_id, u.points, l.expires_at FROM loyalty_lot_uses u \
     JOIN loyalty_lots l ON l.id = u.lot_id WHERE u.entry_id = $1 \
     ORDER BY CASE WHEN l.expires_at IS NULL THEN 1 ELSE 0 END, l.expires_at, l.created_at, l.id";

/// The lots an entry credited (points > 0) or drew from.
async fn lots_of<'a>(
    on: impl Into<On<'a>>,
    entry: &EntryRow,
) -> Result<Vec<LotMovement>, ApiError> {
    let sql = if entry.points > 0 {
        CREDITED_LOTS
    } else {
        DEBITED_LOTS
    };
    Ok(on!(on.into(), e => sqlx::query_as(sql).bind(entry.id).fetch_all(e).await)?)
}

// ---- reads ----

/// The live membership's id for a contact (404 when not a member).
pub async fn member_id(db: &Db, contact_id: Uuid) -> Result<Uuid, ApiError> {
    let id: Option<Uuid> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT m.id FROM loyalty_members m JOIN contacts c ON c.id = m.contact_id
         WHERE m.contact_id = $1 AND m.merged_into IS NULL AND c.deleted_at IS NULL"
    ).bind(contact_id).fetch_optional(pool).await)?;
    id.ok_or_else(|| not_a_member(contact_id))
}

/// One entry with its lots.
pub async fn get_entry(
    db: &Db,
    contact_id: Uuid,
    entry_id: Uuid,
) -> Result<(EntryRow, Vec<LotMovement>), ApiError> {
    let member_id = member_id(db, contact_id).await?;
    let row = entry(db, member_id, entry_id).await?;
    let lots = lots_of(db, &row).await?;
    Ok((row, lots))
}

/// A page of entries, newest first, at or before `as_of`.
pub async fn list(
    db: &Db,
    member_id: Uuid,
    as_of: Option<DateTime<Utc>>,
    kind: Option<EntryKind>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<EntryRow>, ApiError> {
    let (at, id) = before
        .map(|(a, i)| (Some(a), Some(i)))
        .unwrap_or((None, None));
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ENTRY_SELECT} WHERE e.member_id = $1 AND ($2 IS NULL OR e.created_at <= $2) AND ($3 IS NULL OR e.kind = $3)
           AND ($4 IS NULL OR (e.created_at, e.id) < ($4, $5))
         ORDER BY e.created_at DESC, e.id DESC LIMIT $6"
    ))).bind(member_id).bind(as_of).bind(kind.map(EntryKind::as_str)).bind(at).bind(id).bind(limit + 1)
       .fetch_all(pool).await)?,
    )
}

/// The balance at `as_of` (or now), summed from the ledger itself.
pub async fn balance_at(
    db: &Db,
    member_id: Uuid,
    as_of: Option<DateTime<Utc>>,
) -> Result<i64, ApiError> {
    Ok(on_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM loyalty_ledger
         WHERE member_id = $1 AND ($2 IS NULL OR created_at <= $2)"
    ).bind(member_id).bind(as_of).fetch_one(pool).await)?)
}
