//! An open write on one member's points: what every ledger write (earn,
//! redeem, adjust, reverse, cancelling a redemption) does before its posting
//! and after it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    MEMBER_COLUMNS, expiry, not_a_member,
    posting::{
        LIVE_MEMBER_OF_CONTACT, Posted, key_taken, ledger_conflict, lock_member, write_entry,
    },
    program,
    queue::{Turn, wait_turn},
    tiers::retier,
};
use crate::{
    audit::{self, Actor, Change},
    db::{Db, Tx, now},
    http::ApiError,
    loyalty::{
        members::MemberRow,
        program::{ProgramRow, TierBasis, standing},
    },
    on_db,
};

/// An open write on one member: programme loaded, due points expired (under
/// the member's lock, when there were any), this node's turn held.
pub(crate) struct Open {
    pub tx: Tx,
    /// This node's turn on the member (see `queue`), held to the commit.
    pub turn: Turn,
    /// The member: read under its lock when lots were due, otherwise read
    /// before the turn (the posting's own update then returns it).
    pub member: MemberRow,
    pub program: ProgramRow,
    pub now: DateTime<Utc>,
}

/// A live member as a write finds it before taking its lock.
#[derive(sqlx::FromRow)]
pub(crate) struct Found {
    #[sqlx(flatten)]
    pub member: MemberRow,
    /// The entry that already holds the request's key, if any.
    key_used_by: Option<Uuid>,
    /// Whether some of its lots are due to expire.
    pub due: bool,
}

/// Reads the live member of `contact_id` under no lock; 404 for none, 409
/// when its ledger already holds `key`.
pub(crate) async fn find(
    db: &Db,
    contact_id: Uuid,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Found, ApiError> {
    // Due: the soonest expiry of the open lots has passed. Asked as
    // `EXISTS (… AND expires_at <= $3)`, PostgreSQL's plan for any `$3`
    // expected a third of the lots to match and scanned the table for the
    // first one; a member whose lots never expire has none, and every write
    // to it read all its lots (2.4 ms at 16,817). `MIN` reads the first
    // expiring lot from the open-lots index instead (0.1 ms).
    let sql = format!(
        "SELECT {MEMBER_COLUMNS},
                (SELECT e.id FROM loyalty_ledger e WHERE e.member_id = m.id AND e.idempotency_key = $2) AS key_used_by,
                COALESCE((SELECT MIN(l.expires_at) FROM loyalty_lots l
                          WHERE l.member_id = m.id AND l.remaining > 0) <= $3, FALSE) AS due
         FROM loyalty_members m WHERE {LIVE_MEMBER_OF_CONTACT}"
    );
    let found: Option<Found> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(contact_id).bind(key).bind(now).fetch_optional(pool).await)?;
    let found = found.ok_or_else(|| not_a_member(contact_id))?;
    match found.key_used_by {
        Some(entry_id) => Err(key_taken(key, entry_id)),
        None => Ok(found),
    }
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
    let found = find(db, contact_id, key, now).await?;
    let turn = wait_turn(db, found.member.id).await;
    let mut tx = db.begin().await?;
    let mut member = found.member;
    if found.due {
        member = lock_member(&mut tx, contact_id, now).await?;
        expiry::expire_due(&mut tx, &mut member, now).await?;
    }
    Ok(Open {
        tx,
        turn,
        member,
        program,
        now,
    })
}

/// Re-tiers, audits and commits; the turn remembers the member as the
/// write left it, for the next earnings written together (see `batch`).
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
    open.turn.remember(open.member);
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
