//! Ledger writes (earn, redeem, adjust, reverse) and reads.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    ENTRY_SELECT, MEMBER_COLUMNS, expiry, not_a_member,
    posting::{
        Post, Posted, credit, debit, key_taken, ledger_conflict, lock_member, retier, write_entry,
    },
    program,
    queue::{Turn, wait_turn},
};
use crate::{
    audit::{self, Actor, Change},
    db::{Db, Tx, now},
    http::ApiError,
    loyalty::{
        ledger::{EntryKind, EntryRow, LotMovement},
        members::MemberRow,
        program::{ProgramRow, TierBasis, lot_expiry, standing},
    },
    on_db, on_tx,
};
use crate::{db::On, on};

/// An open write on one member: locked, programme loaded, due points expired.
pub(crate) struct Open {
    pub tx: Tx,
    /// This node's turn on the member (see `queue`), held to the commit.
    pub _turn: Turn,
    pub member: MemberRow,
    pub program: ProgramRow,
    pub now: DateTime<Utc>,
}

/// A live member as a write finds it before taking its lock.
#[derive(sqlx::FromRow)]
struct Found {
    #[sqlx(flatten)]
    member: MemberRow,
    /// The entry that already holds the request's key, if any.
    key_used_by: Option<Uuid>,
    /// Whether some of its lots are due to expire.
    due: bool,
}

/// Opens a write on a member. What needs no lock is read first, outside the
/// transaction: on PostgreSQL the writers of one member queue on its row,
/// and each round trip made while holding it is one that every writer
/// behind waits for. The posting's own update (`credit`, `debit`) takes the
/// lock, or the member is locked here first when lots are due to expire,
/// so that the write never spends expired points. A key taken between the
/// check and the write is caught by the ledger's unique key
/// ([`ledger_conflict`]).
pub(crate) async fn open(
    db: &Db,
    contact_id: Uuid,
    key: &str,
    program: Option<ProgramRow>,
) -> Result<Open, ApiError> {
    let now = now();
    let program = match program {
        Some(program) => program,
        None => program::get(db).await?,
    };
    let sql = format!(
        "SELECT {MEMBER_COLUMNS},
                (SELECT e.id FROM loyalty_ledger e WHERE e.member_id = m.id AND e.idempotency_key = $2) AS key_used_by,
                EXISTS (SELECT 1 FROM loyalty_lots l
                        WHERE l.member_id = m.id AND l.remaining > 0 AND l.expires_at <= $3) AS due
         FROM loyalty_members m
         WHERE m.contact_id = $1 AND m.merged_into IS NULL
           AND EXISTS (SELECT 1 FROM contacts WHERE id = $1 AND deleted_at IS NULL)"
    );
    let found: Option<Found> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(contact_id).bind(key).bind(now).fetch_optional(pool).await)?;
    let found = found.ok_or_else(|| not_a_member(contact_id))?;
    if let Some(entry_id) = found.key_used_by {
        return Err(key_taken(key, entry_id));
    }
    let turn = wait_turn(db, found.member.id).await;
    let mut tx = db.begin().await?;
    let mut member = found.member;
    if found.due {
        member = lock_member(&mut tx, contact_id, now).await?;
        expiry::expire_due(&mut tx, &mut member, now).await?;
    }
    Ok(Open {
        tx,
        _turn: turn,
        member,
        program,
        now,
    })
}

/// Re-tiers, audits and commits.
pub(crate) async fn finish(
    mut open: Open,
    actor: &Actor,
    posted: Posted,
) -> Result<Posted, ApiError> {
    settle(
        &mut open.tx,
        &mut open.member,
        &open.program,
        actor,
        &posted,
        open.now,
    )
    .await?;
    open.tx
        .commit()
        .await
        .map_err(|err| ledger_conflict(err, &posted.entry))?;
    Ok(posted)
}

/// What follows every posting, inside its transaction: re-tiering and the audit entry.
pub(crate) async fn settle(
    tx: &mut Tx,
    member: &mut MemberRow,
    program: &ProgramRow,
    actor: &Actor,
    posted: &Posted,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    // Re-tiering sends a statement when it sums the ledger (rolling basis,
    // this entry included) or moves the tier: the entry is written first, so
    // that a collision of its key reads as one.
    let sends = program.basis() == TierBasis::Rolling
        || standing(&program.tiers.0, member.lifetime_points).tier != member.tier;
    if sends {
        write_entry(tx, &posted.entry).await?;
    }
    retier(tx, member, program, Some(posted.entry.id), now).await?;
    let change = Change::none()
        .with("entry_id", posted.entry.id)
        .with("points", posted.entry.points)
        .with("balance_after", posted.entry.balance_after);
    audit::record(
        tx,
        actor,
        posted.entry.kind().as_str(),
        "loyalty_member",
        member.contact_id,
        change,
    )
    .await
}

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
    let mut open = open(db, req.contact_id, req.key, Some(program)).await?;
    let expires_at = lot_expiry(open.now, open.program.expiry_months);
    let post = Post {
        amount,
        ..req.post(EntryKind::Earn, open.now)
    };
    let posted = credit(
        &mut open.tx,
        &mut open.member,
        points,
        points,
        &[(points, expires_at)],
        &post,
    )
    .await?;
    finish(open, req.actor, posted).await
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
        let expires_at = lot_expiry(open.now, open.program.expiry_months);
        credit(
            &mut open.tx,
            &mut open.member,
            points,
            points,
            &[(points, expires_at)],
            &post,
        )
        .await?
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
