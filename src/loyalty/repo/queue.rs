//! Writers of one member take turns here, in the node, before they reach
//! its row lock.
//!
//! On PostgreSQL every write to a member's points takes the member's row
//! lock (see [`posting`](super::posting)). When many requests write to one
//! member at once (a shop's till posting every sale to one account), they all
//! waited in the database: thirty backends queued on the row, each hand-over
//! a wake-up of the next backend and a re-check of the row, and earnings fell
//! from 880 a second with 4 connections to 630 with 64. Queued here first, at
//! most one writer of a member per node reaches the database, whose lock then
//! only orders the nodes. The row lock remains the guarantee; this only moves
//! the queue to where waiting is cheap.
//!
//! The turn also remembers the member as this node's last write to it left
//! it, and earnings waiting for the turn leave their work on the stripe
//! ([`wait_turn_or_reply`]): the writer that gets the turn computes its
//! earning and every earning of its member waiting there from that balance,
//! without reading the member under its lock, and writes them in one
//! statement that applies only if the member is still as remembered (see
//! `batch`). Another node's write in between makes that statement change
//! nothing, and each earning is written again under the lock.
//!
//! SQLite needs none of it: its one writer connection orders every write.

use std::sync::{Arc, OnceLock};

use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};
use uuid::Uuid;

use super::batch::{Earning, Reply};
use crate::{db::Db, loyalty::members::MemberRow};

/// Members share these turns by their id; two busy members on one stripe
/// only wait for each other's short transactions.
const STRIPES: usize = 256;

/// One stripe: its turn, holding the member its last writer remembered, and
/// the earnings waiting for it.
#[derive(Default)]
struct Stripe {
    turn: Arc<Mutex<Option<MemberRow>>>,
    waiting: std::sync::Mutex<Vec<(Uuid, Earning)>>,
}

fn stripe_of(member_id: Uuid) -> &'static Stripe {
    static STRIPES_OF_NODE: OnceLock<Vec<Stripe>> = OnceLock::new();
    let stripes = STRIPES_OF_NODE.get_or_init(|| (0..STRIPES).map(|_| Stripe::default()).collect());
    &stripes[(member_id.as_u128() % STRIPES as u128) as usize]
}

fn waiting(stripe: &Stripe) -> std::sync::MutexGuard<'_, Vec<(Uuid, Earning)>> {
    // A panic while the lock was held left a plain list behind: still usable.
    stripe.waiting.lock().unwrap_or_else(|e| e.into_inner())
}

/// A writer's turn on a member, until dropped (with the transaction).
pub(crate) struct Turn {
    held: Option<OwnedMutexGuard<Option<MemberRow>>>,
    /// What the stripe's last writer remembered; the stripe itself forgets
    /// it when the turn is taken, so that a writer that commits without
    /// saying how it left its member leaves nothing behind.
    last: Option<MemberRow>,
}

impl Turn {
    /// The member as this node's last write to it left it, if this stripe's
    /// last write was to it and said so.
    pub(crate) fn remembered(&self, member_id: Uuid) -> Option<MemberRow> {
        self.last.as_ref().filter(|m| m.id == member_id).cloned()
    }

    /// Remembers the member as this write committed it, for the stripe's
    /// next writer.
    pub(crate) fn remember(&mut self, member: MemberRow) {
        if let Some(held) = self.held.as_mut() {
            **held = Some(member);
        }
    }

    /// The earnings of `member_id` waiting on this turn's stripe, oldest
    /// first, at most `limit`; the turn's holder now answers them.
    pub(crate) fn take_waiting(&self, member_id: Uuid, limit: usize) -> Vec<Earning> {
        let mut list = waiting(stripe_of(member_id));
        let mut taken = Vec::new();
        let mut left = Vec::with_capacity(list.len());
        for (member, earning) in list.drain(..) {
            if member == member_id && taken.len() < limit {
                taken.push(earning);
            } else {
                left.push((member, earning));
            }
        }
        *list = left;
        taken
    }
}

/// What an earning waiting for its member's turn got first.
pub(crate) enum Waited {
    /// The turn: this writer writes its own earning (given back) and the
    /// others waiting.
    Turn(Turn, Box<Earning>),
    /// Another writer's answer for this earning.
    Reply(Reply),
}

/// Leaves `earning` on the stripe of `member_id` and waits for whichever
/// comes first: the turn, or another writer that took the earning and
/// answers it. PostgreSQL only (see [`wait_turn`]).
pub(crate) async fn wait_turn_or_reply(db: &Db, member_id: Uuid, earning: Earning) -> Waited {
    let (answer, mut reply) = oneshot::channel();
    let id = earning.id;
    // A request dropped while it waits (its client hung up) takes its
    // earning back: nobody would hear its answer.
    let _withdraw = Withdraw { member_id, id };
    waiting(stripe_of(member_id)).push((
        member_id,
        Earning {
            answer: Some(answer),
            ..earning
        },
    ));
    tokio::select! {
        biased;
        answered = &mut reply => Waited::Reply(answered.unwrap_or(Reply::WriteAlone)),
        turn = wait_turn(db, member_id) => {
            // The earning is still waiting, or a writer took it just now and answers it.
            let still_waiting = {
                let mut list = waiting(stripe_of(member_id));
                let at = list.iter().position(|(_, e)| e.id == id);
                at.map(|at| list.remove(at).1)
            };
            match still_waiting {
                Some(mine) => Waited::Turn(turn, Box::new(mine)),
                None => {
                    drop(turn);
                    Waited::Reply(reply.await.unwrap_or(Reply::WriteAlone))
                }
            }
        }
    }
}

/// Removes an earning from its stripe, if it is still there, when dropped.
struct Withdraw {
    member_id: Uuid,
    id: u64,
}

impl Drop for Withdraw {
    fn drop(&mut self) {
        waiting(stripe_of(self.member_id)).retain(|(_, e)| e.id != self.id);
    }
}

/// Waits for this node's turn to write to the member `member_id`. Taken
/// before the transaction begins, so a writer never waits for a turn while
/// it holds a row lock, and writers waiting their turn hold no connection
/// (with `BEGIN` sent first, thirty of them held a pool's every connection
/// for an earning about 5 % faster).
pub(crate) async fn wait_turn(db: &Db, member_id: Uuid) -> Turn {
    if db.is_sqlite() {
        return Turn {
            held: None,
            last: None,
        };
    }
    let mut held = stripe_of(member_id).turn.clone().lock_owned().await;
    let last = held.take();
    Turn {
        held: Some(held),
        last,
    }
}
