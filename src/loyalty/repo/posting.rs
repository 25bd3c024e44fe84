//! The posting engine: appends one ledger entry and moves the member's
//! balance and lots with it, inside the caller's transaction.
//!
//! A credit adds to the balance and opens lots; a debit subtracts with a
//! conditional update (`balance >= $1`) and takes the points from the open
//! lots, oldest expiry first. Either update locks the member row. A caller
//! expires what is due first ([`super::expiry::expire_due`], under the lock
//! of [`lock_member`]) when there is any, then posts, then re-tiers
//! ([`retier`](super::tiers::retier)).
//!
//! The entry, its reason, lots, lot uses and event are kept rows (see
//! `db::records`): written together with the transaction's next statement
//! or its commit. The lock is held from the posting's update to the commit,
//! and every round trip in between is one that the member's other writers
//! wait for.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    MEMBER_COLUMNS,
    lots::{lot_use, take_from_lots},
    not_a_member,
};
use crate::{
    audit::Actor,
    db::{
        Tx, is_unique_violation_on, new_id,
        records::{Bind, Record},
    },
    http::ApiError,
    loyalty::{
        events,
        ledger::{EntryKind, EntryRow, LotMovement},
        members::MemberRow,
    },
    on_tx,
};

/// The live membership of the contact `$1` (not merged away, the contact
/// not deleted), as a condition on `loyalty_members`.
pub(super) const LIVE_MEMBER_OF_CONTACT: &str = "contact_id = $1 AND merged_into IS NULL \
     AND EXISTS (SELECT 1 FROM contacts WHERE id = $1 AND deleted_at IS NULL)";

/// Locks a contact's live membership for the rest of the transaction. It is
/// the first statement of every write to a member's points: on PostgreSQL the
/// row lock queues concurrent writers of this member on every node.
pub async fn lock_member(
    tx: &mut Tx,
    contact_id: Uuid,
    now: DateTime<Utc>,
) -> Result<MemberRow, ApiError> {
    let row: Option<MemberRow> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE loyalty_members SET updated_at = $2
         WHERE {LIVE_MEMBER_OF_CONTACT} RETURNING {MEMBER_COLUMNS}"
    ))).bind(contact_id).bind(now).fetch_optional(&mut **c).await)?;
    row.ok_or_else(|| not_a_member(contact_id))
}

/// Locks a live membership by its own id; `None` when it was merged away.
pub async fn lock_member_by_id(
    tx: &mut Tx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<MemberRow>, ApiError> {
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE loyalty_members SET updated_at = $2 WHERE id = $1 AND merged_into IS NULL RETURNING {MEMBER_COLUMNS}"
    ))).bind(member_id).bind(now).fetch_optional(&mut **c).await)?)
}

/// How a credit moves the member's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Its update takes the member's lock and returns the row, at once.
    Take,
    /// The member is as the caller knows it (read under no lock, or as this
    /// node's last write left it, see `queue`), and the caller keeps one
    /// update for its credits ([`expected_update`], [`Tx::require`]): a
    /// busy member's earnings written together in one statement that
    /// applies only if the member is still as known (see `batch`).
    Deferred,
}

/// The member's update from `known` to `member`, applied only if balance,
/// lifetime points and tier are still as known: the entries written with it
/// were computed from them.
pub fn expected_update(known: &MemberRow, member: &MemberRow) -> Record {
    Record::new(
        "UPDATE loyalty_members SET balance = $1, lifetime_points = $2, updated_at = $3
         WHERE id = $4 AND merged_into IS NULL AND balance = $5 AND lifetime_points = $6 AND tier = $7",
        vec![
            Bind::Int(member.balance),
            Bind::Int(member.lifetime_points),
            Bind::Time(member.updated_at),
            Bind::Uuid(member.id),
            Bind::Int(known.balance),
            Bind::Int(known.lifetime_points),
            Bind::Text(known.tier.clone()),
        ],
    )
}

/// What an entry is, apart from its points.
pub struct Post<'a> {
    pub kind: EntryKind,
    pub reason: Option<&'a str>,
    pub key: &'a str,
    pub actor: &'a Actor,
    pub reverses: Option<Uuid>,
    pub redemption_id: Option<Uuid>,
    pub amount: Option<(i64, &'a str)>,
    pub now: DateTime<Utc>,
}

/// An appended entry and the lots it moved.
pub struct Posted {
    pub entry: EntryRow,
    pub lots: Vec<LotMovement>,
}

/// The 409 for a debit above the balance.
pub fn insufficient(balance: i64, wanted: i64) -> ApiError {
    ApiError::conflict(format!(
        "The balance is {balance} points; {wanted} points cannot be taken from it. Nothing was written."
    ))
    .with("balance", balance)
    .with("requested_points", wanted)
}

fn duplicate_key(key: &str) -> ApiError {
    ApiError::conflict(format!(
        "The Idempotency-Key {key:?} was already used for another ledger entry of this member; \
         the points were not applied again. Use a new key for a new operation."
    ))
}

/// Refuses a key this member's ledger already holds (the UNIQUE constraint
/// is the guarantee; this check gives the caller the entry's id).
pub async fn ensure_new_key(tx: &mut Tx, member_id: Uuid, key: &str) -> Result<(), ApiError> {
    let existing: Option<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT id FROM loyalty_ledger WHERE member_id = $1 AND idempotency_key = $2"
    ).bind(member_id).bind(key).fetch_optional(&mut **c).await)?;
    match existing {
        Some(id) => Err(key_taken(key, id)),
        None => Ok(()),
    }
}

/// The 409 for a key this member's ledger holds already, naming its entry.
pub fn key_taken(key: &str, entry_id: Uuid) -> ApiError {
    duplicate_key(key).with("entry_id", entry_id)
}

/// Adds `points` (≥ 0) to the balance and `qualifying` to lifetime points,
/// opening one lot per `(points, expires_at)` in `lots`. With [`Lock::Take`]
/// its `UPDATE` locks the member when the caller has not; the entry, its lots
/// and events are kept rows, written with the commit (see `db::records`).
pub async fn credit(
    tx: &mut Tx,
    member: &mut MemberRow,
    points: i64,
    qualifying: i64,
    lots: &[(i64, Option<DateTime<Utc>>)],
    post: &Post<'_>,
    lock: Lock,
) -> Result<Posted, ApiError> {
    if lock == Lock::Deferred {
        member.balance += points;
        member.lifetime_points += qualifying;
        member.updated_at = post.now;
    } else {
        let updated: Option<MemberRow> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE loyalty_members SET balance = balance + $1, lifetime_points = lifetime_points + $2, updated_at = $3
             WHERE id = $4 AND merged_into IS NULL RETURNING {MEMBER_COLUMNS}"
        ))).bind(points).bind(qualifying).bind(post.now).bind(member.id).fetch_optional(&mut **c).await)?;
        *member = updated.ok_or_else(|| not_a_member(member.contact_id))?;
    }
    let entry = append(tx, member, points, qualifying, post).await?;
    let mut moved = Vec::with_capacity(lots.len());
    for &(lot_points, expires_at) in lots.iter().filter(|(p, _)| *p > 0) {
        let lot_id = new_id();
        tx.append(Record::new(
            "INSERT INTO loyalty_lots (id, member_id, entry_id, points, remaining, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $4, $5, $6)",
            vec![
                Bind::Uuid(lot_id),
                Bind::Uuid(member.id),
                Bind::Uuid(entry.id),
                Bind::Int(lot_points),
                Bind::OptionalTime(expires_at),
                Bind::Time(post.now),
            ],
        ));
        moved.push(LotMovement {
            lot_id,
            points: lot_points,
            expires_at,
        });
    }
    Ok(Posted { entry, lots: moved })
}

/// Takes `points` (> 0) from the balance and from the open lots (the lot
/// `prefer` first, then oldest expiry, then oldest), changing lifetime points
/// by `qualifying`. Fails with 409 when the balance is short. Its conditional
/// `UPDATE` locks the member when the caller has not.
pub async fn debit(
    tx: &mut Tx,
    member: &mut MemberRow,
    points: i64,
    qualifying: i64,
    prefer: Option<Uuid>,
    post: &Post<'_>,
) -> Result<Posted, ApiError> {
    let updated: Option<MemberRow> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE loyalty_members SET balance = balance - $1, lifetime_points = lifetime_points + $2, updated_at = $3
         WHERE id = $4 AND merged_into IS NULL AND balance >= $1 RETURNING {MEMBER_COLUMNS}"
    ))).bind(points).bind(qualifying).bind(post.now).bind(member.id).fetch_optional(&mut **c).await)?;
    let Some(updated) = updated else {
        return Err(short_or_gone(tx, member, points).await);
    };
    *member = updated;
    // The lots first: the entry and the lots' uses are then kept rows, written
    // with the commit or the caller's next statement.
    let lots = take_from_lots(tx, member.id, points, prefer, post.now).await?;
    let entry = append(tx, member, -points, qualifying, post).await?;
    for lot in &lots {
        tx.append(lot_use(entry.id, lot.lot_id, lot.points));
    }
    Ok(Posted { entry, lots })
}

/// Why a debit changed nothing: the membership was merged away, or the
/// balance is short of `points`.
async fn short_or_gone(tx: &mut Tx, member: &MemberRow, points: i64) -> ApiError {
    let balance: Result<Option<i64>, sqlx::Error> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT balance FROM loyalty_members WHERE id = $1 AND merged_into IS NULL"
    ).bind(member.id).fetch_optional(&mut **c).await);
    match balance {
        Ok(Some(balance)) => insufficient(balance, points),
        Ok(None) => not_a_member(member.contact_id),
        Err(err) => err.into(),
    }
}

/// What a failed write of kept rows means when they hold a ledger entry: a
/// unique key of `loyalty_ledger` is this member's `Idempotency-Key`, or the
/// entry that may be reversed once. Checked before the write; this is the
/// answer when a concurrent request took the key in between.
pub fn ledger_conflict(err: sqlx::Error, entry: &EntryRow) -> ApiError {
    if !is_unique_violation_on(&err, "loyalty_ledger") {
        return err.into();
    }
    // PostgreSQL names the index; SQLite names its column.
    let reversed_twice = err.as_database_error().is_some_and(|e| {
        e.constraint() == Some("loyalty_ledger_reversed_once")
            || e.message().contains("loyalty_ledger.reverses_id")
    });
    if reversed_twice {
        ApiError::conflict("This entry was already reversed.")
    } else {
        duplicate_key(&entry.idempotency_key)
    }
}

/// Writes the kept rows of `entry` now, explaining a collision of its keys.
pub async fn write_entry(tx: &mut Tx, entry: &EntryRow) -> Result<(), ApiError> {
    tx.flush().await.map_err(|err| ledger_conflict(err, entry))
}

/// Keeps the entry row (and its reason) with the balance already updated,
/// and its event; they are written with the transaction's next round trip,
/// whose failure on a ledger key [`ledger_conflict`] explains.
pub(super) async fn append(
    tx: &mut Tx,
    member: &MemberRow,
    points: i64,
    qualifying: i64,
    post: &Post<'_>,
) -> Result<EntryRow, ApiError> {
    let id = new_id();
    let actor_id = (post.actor.kind != "system").then_some(post.actor.id);
    let (amount_minor, currency) = post
        .amount
        .map(|(a, c)| (Some(a), Some(c.to_string())))
        .unwrap_or((None, None));
    tx.append(Record::new(
        "INSERT INTO loyalty_ledger (id, member_id, kind, points, qualifying_points, balance_after, idempotency_key,
                                     reverses_id, redemption_id, amount_minor, currency, actor_type, actor_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        vec![
            Bind::Uuid(id),
            Bind::Uuid(member.id),
            Bind::Text(post.kind.as_str().to_string()),
            Bind::Int(points),
            Bind::Int(qualifying),
            Bind::Int(member.balance),
            Bind::Text(post.key.to_string()),
            Bind::OptionalUuid(post.reverses),
            Bind::OptionalUuid(post.redemption_id),
            Bind::OptionalInt(amount_minor),
            Bind::OptionalText(currency.clone()),
            Bind::Text(post.actor.kind.to_string()),
            Bind::OptionalUuid(actor_id),
            Bind::Time(post.now),
        ],
    ));
    if let Some(reason) = post.reason {
        tx.append(Record::new(
            "INSERT INTO loyalty_entry_reasons (entry_id, reason) VALUES ($1, $2)",
            vec![Bind::Uuid(id), Bind::Text(reason.to_string())],
        ));
    }
    let entry = EntryRow {
        id,
        member_id: member.id,
        contact_id: member.contact_id,
        kind: post.kind,
        points,
        qualifying_points: qualifying,
        balance_after: member.balance,
        reason: post.reason.map(str::to_string),
        amount_minor,
        currency,
        reverses_id: post.reverses,
        redemption_id: post.redemption_id,
        idempotency_key: post.key.to_string(),
        actor_type: post.actor.kind.to_string(),
        actor_id,
        created_at: post.now,
    };
    let kind = match post.kind {
        EntryKind::Earn => &events::POINTS_EARNED,
        EntryKind::Redeem => &events::POINTS_REDEEMED,
        EntryKind::Adjust | EntryKind::Reverse => &events::POINTS_ADJUSTED,
        EntryKind::Expire => &events::POINTS_EXPIRED,
    };
    crate::events::record(
        tx,
        post.actor,
        kind,
        Some(member.contact_id),
        &entry.clone().into_entry(None),
    )
    .await?;
    Ok(entry)
}
