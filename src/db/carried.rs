//! Rows a request must see committed before it answers, but that need no
//! transaction of their own: the next transaction to commit on the node
//! writes them with its own rows, in the same round trip.
//!
//! An idempotent answer is one: a keyed request's answer is stored after its
//! own transaction has committed, when the response is known. Stored as a
//! transaction of its own it was a second trip through SQLite's one writer
//! (or a second commit on PostgreSQL) for every keyed write; carried, it is
//! one more statement in a commit that happens anyway. A row nobody carries
//! within [`CARRY_WITHIN`] is written by its own request, which then carries
//! whatever else waits.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::oneshot;

use super::{Db, records::Record};

/// How long a row waits for another transaction to carry it.
const CARRY_WITHIN: Duration = Duration::from_millis(1);

/// At most this many rows ride on one commit: a commit under a busy row's
/// lock (a loyalty member's) should not hold it for long for others' sake.
const PER_COMMIT: usize = 8;

/// The rows waiting to be carried, per database.
#[derive(Default)]
pub struct Carried {
    next_id: AtomicU64,
    waiting: Mutex<Vec<Waiting>>,
}

impl std::fmt::Debug for Carried {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Carried").finish_non_exhaustive()
    }
}

/// A row waiting, and who waits for it.
pub(super) struct Waiting {
    id: u64,
    pub(super) record: Record,
    /// Told whether the commit that carried the row succeeded; a failed one
    /// hands the row back.
    done: oneshot::Sender<Result<(), Record>>,
}

impl Waiting {
    /// Tells the row's request how the commit that carried it went.
    pub(super) fn settle(self, committed: bool) {
        let outcome = if committed { Ok(()) } else { Err(self.record) };
        // The request may be gone (its client hung up): nothing to tell.
        let _ = self.done.send(outcome);
    }
}

impl Carried {
    fn push(&self, record: Record) -> (u64, oneshot::Receiver<Result<(), Record>>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (done, outcome) = oneshot::channel();
        self.lock().push(Waiting { id, record, done });
        (id, outcome)
    }

    /// The row `id` back, unless a transaction has taken it.
    fn take_back(&self, id: u64) -> Option<Record> {
        let mut waiting = self.lock();
        let at = waiting.iter().position(|w| w.id == id)?;
        Some(waiting.swap_remove(at).record)
    }

    /// At most `room` waiting rows, oldest first, for a transaction about to
    /// commit (see `Tx::commit`), which settles each.
    pub(super) fn take(&self, room: usize) -> Vec<Waiting> {
        let mut waiting = self.lock();
        let taken = waiting.len().min(room).min(PER_COMMIT);
        waiting.drain(..taken).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        // A panic while the lock was held left a plain list behind: still usable.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Db {
    /// Writes `record` with the next transaction that commits on this node,
    /// and returns once it is committed.
    pub async fn write_carried(&self, record: Record) -> Result<(), sqlx::Error> {
        let carried = self.carried();
        let (id, mut outcome) = carried.push(record);
        let settled = match tokio::time::timeout(CARRY_WITHIN, &mut outcome).await {
            Ok(settled) => settled,
            // Nobody has committed since: write it here, unless a
            // transaction took it meanwhile.
            Err(_) => match carried.take_back(id) {
                Some(record) => return self.write_now(record).await,
                None => outcome.await,
            },
        };
        match settled {
            Ok(Ok(())) => Ok(()),
            // Its commit failed: the row is back, to write here.
            Ok(Err(record)) => self.write_now(record).await,
            Err(_) => Err(abandoned()),
        }
    }

    /// `record` in a transaction of its own (which carries what waits too).
    async fn write_now(&self, record: Record) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        tx.append(record);
        tx.commit().await
    }
}

/// The transaction that took the row was dropped before it settled it (its
/// request was cancelled mid-commit): whether the row was written is unknown.
fn abandoned() -> sqlx::Error {
    sqlx::Error::Protocol(
        "the transaction carrying a row was cancelled before it said whether it committed".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::records::Bind;

    async fn database() -> Db {
        let path =
            std::env::temp_dir().join(format!("rapport-carried-{}.db", uuid::Uuid::now_v7()));
        let db = Db::connect(&format!("sqlite://{}", path.display()), 2)
            .await
            .unwrap();
        crate::on_writer!(&db, c => sqlx::query("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
            .execute(c).await.map(|_| ()))
        .unwrap();
        db
    }

    fn row(v: i64) -> Record {
        Record::new("INSERT INTO t (v) VALUES ($1)", vec![Bind::Int(v)])
    }

    async fn values(db: &Db) -> Vec<i64> {
        crate::on_db!(db, pool => sqlx::query_scalar("SELECT v FROM t ORDER BY v").fetch_all(pool).await)
            .unwrap()
    }

    /// How the commit that took a row went (a test fails, not hangs, when none did).
    async fn settled(outcome: oneshot::Receiver<Result<(), Record>>) -> Result<(), Record> {
        tokio::time::timeout(Duration::from_secs(5), outcome)
            .await
            .expect("no commit settled the row")
            .expect("the row was dropped unsettled")
    }

    #[tokio::test]
    async fn a_row_nobody_carries_is_written_by_its_own_request() {
        let db = database().await;
        db.write_carried(row(1)).await.unwrap();
        assert_eq!(values(&db).await, [1]);
        assert!(db.carried().lock().is_empty());
    }

    #[tokio::test]
    async fn a_waiting_row_rides_on_the_next_commit() {
        let db = database().await;
        let (_, outcome) = db.carried().push(row(1));
        let mut tx = db.begin().await.unwrap();
        tx.append(row(2));
        tx.commit().await.unwrap();
        assert!(settled(outcome).await.is_ok());
        assert_eq!(values(&db).await, [1, 2]);
    }

    #[tokio::test]
    async fn a_commit_that_fails_hands_the_rows_it_carried_back() {
        let db = database().await;
        db.write_carried(row(1)).await.unwrap();
        let (_, outcome) = db.carried().push(row(2));
        // A duplicate: this commit fails, and with it the row it carried.
        let mut tx = db.begin().await.unwrap();
        tx.append(row(1));
        assert!(tx.commit().await.is_err());
        let handed_back = settled(outcome).await.unwrap_err();
        assert_eq!(values(&db).await, [1]);
        db.write_carried(handed_back).await.unwrap();
        assert_eq!(values(&db).await, [1, 2]);
    }

    #[tokio::test]
    async fn a_commit_carries_a_few_rows_at_most() {
        let db = database().await;
        let outcomes: Vec<_> = (1..=PER_COMMIT as i64 + 1)
            .map(|v| db.carried().push(row(v)).1)
            .collect();
        db.begin().await.unwrap().commit().await.unwrap();
        assert_eq!(values(&db).await.len(), PER_COMMIT);
        assert_eq!(db.carried().lock().len(), 1);
        drop(outcomes);
    }
}
