//! A busy member's earnings written together, on PostgreSQL.
//!
//! Earnings of one member commit one after another: each computes its
//! balance from the one before, whose commit it waits for. Under a till
//! posting every sale to one member, one earning per commit (even as one
//! statement) made 700–850 earnings a second. So an earning waiting for its member's turn leaves its work on the turn's
//! stripe ([`wait_turn_or_reply`]); the writer that gets the turn writes
//! every earning of its member waiting there with its own, in one statement
//! whose update applies only to the member as known, and answers each. When
//! that statement fails (another node wrote, or one earning's key was
//! taken), each earning is written alone, as before.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{
    open::{find, settle},
    posting::{Lock, Post, Posted, credit, expected_update, ledger_conflict},
    queue::{Waited, wait_turn_or_reply},
};
use crate::{
    audit::Actor,
    db::{Db, claim::Claim},
    http::ApiError,
    loyalty::{
        ledger::EntryKind,
        members::MemberRow,
        program::{ProgramRow, TierBasis, lot_expiry, standing},
    },
};

/// At most this many earnings in one statement: about 30 rows, which keeps
/// it one round trip (see `db::records`).
const PER_STATEMENT: usize = 5;

/// One earning, as its request asked for it.
pub(crate) struct Earning {
    /// Tells the earning apart on its stripe.
    pub id: u64,
    pub key: String,
    pub reason: Option<String>,
    pub actor: Actor,
    pub points: i64,
    pub amount: Option<(i64, String)>,
    pub now: DateTime<Utc>,
    /// The request's idempotency key, written with the earning.
    pub claim: Option<Arc<Claim>>,
    /// Where the writer that takes it answers.
    pub answer: Option<oneshot::Sender<Reply>>,
}

/// The answer to an earning another writer took.
pub(crate) enum Reply {
    Written(Box<Posted>),
    /// Not written: write it alone.
    WriteAlone,
}

/// Earns with the other earnings of the member waiting for its turn; `None`
/// when it is to be written alone (SQLite, due lots, a rolling tier window, a
/// tier change, or a statement that failed).
pub(crate) async fn earn(
    db: &Db,
    contact_id: Uuid,
    earning: Earning,
    program: &ProgramRow,
) -> Result<Option<Posted>, ApiError> {
    if db.is_sqlite() || program.basis() == TierBasis::Rolling {
        return Ok(None);
    }
    let found = find(db, contact_id, &earning.key, earning.now).await?;
    if found.due {
        return Ok(None);
    }
    let member_id = found.member.id;
    let (mut turn, mine) = match wait_turn_or_reply(db, member_id, earning).await {
        Waited::Reply(Reply::Written(posted)) => return Ok(Some(*posted)),
        Waited::Reply(Reply::WriteAlone) => return Ok(None),
        Waited::Turn(turn, mine) => (turn, mine),
    };
    let mut earnings = vec![*mine];
    earnings.extend(turn.take_waiting(member_id, PER_STATEMENT - 1));
    let known = turn.remembered(member_id).unwrap_or(found.member);
    let written = write(db, &known, &earnings, program).await;
    let mut answers = earnings.into_iter().map(|e| e.answer);
    answers.next();
    match written {
        Ok(Some((member, posted))) => {
            turn.remember(member);
            let mut posted = posted.into_iter();
            let own = posted.next();
            for (answer, posted) in answers.zip(posted) {
                if let Some(answer) = answer {
                    let _ = answer.send(Reply::Written(Box::new(posted)));
                }
            }
            Ok(own)
        }
        failed => {
            for answer in answers.flatten() {
                let _ = answer.send(Reply::WriteAlone);
            }
            failed.map(|_| None)
        }
    }
}

/// Writes `earnings` (the turn holder's first) from the member as `known`,
/// in one statement; the member as they left it and their entries, or `None`
/// when they are to be written alone. An error only for the holder's own
/// earning written by itself.
async fn write(
    db: &Db,
    known: &MemberRow,
    earnings: &[Earning],
    program: &ProgramRow,
) -> Result<Option<(MemberRow, Vec<Posted>)>, ApiError> {
    let mut tx = db.begin().await?;
    if !tx.keeps_required() {
        return Ok(None);
    }
    let mut member = known.clone();
    let mut written = Vec::with_capacity(earnings.len());
    for (i, e) in earnings.iter().enumerate() {
        // A tier change sends statements of its own: written alone.
        let tier = standing(&program.tiers.0, member.lifetime_points + e.points).tier;
        if tier != member.tier {
            return Ok(None);
        }
        let post = Post {
            kind: EntryKind::Earn,
            reason: e.reason.as_deref(),
            key: &e.key,
            actor: &e.actor,
            reverses: None,
            redemption_id: None,
            amount: e.amount.as_ref().map(|(a, c)| (*a, c.as_str())),
            now: e.now,
        };
        let lots = [(e.points, lot_expiry(e.now, program.expiry_months))];
        let posted = credit(
            &mut tx,
            &mut member,
            e.points,
            e.points,
            &lots,
            &post,
            Lock::Deferred,
        )
        .await?;
        settle(&mut tx, &mut member, program, &e.actor, &posted, e.now).await?;
        // The holder's own key is its request's, which the commit writes.
        if let (true, Some(claim)) = (i > 0, &e.claim) {
            tx.write_claim(claim.clone());
        }
        written.push(posted);
    }
    tx.require(expected_update(known, &member)).await?;
    match tx.commit().await {
        Ok(()) => Ok(Some((member, written))),
        Err(sqlx::Error::RowNotFound) => Ok(None),
        Err(err) if earnings.len() == 1 => Err(ledger_conflict(err, &written[0].entry)),
        Err(_) => Ok(None),
    }
}

/// A new earning's id on its stripe.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
