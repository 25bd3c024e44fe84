//! SQLite's one writer connection, and the transactions that run on it.
//!
//! Not a pool: a pool pings every connection that comes back to it (a round
//! trip to the connection's thread), and with one connection that ping stood
//! between every two writes. Here the connection sits behind a fair lock
//! that writers take in turn.
//!
//! A transaction sends `BEGIN IMMEDIATE` with its first statement and its end
//! with the last rows it keeps (see [`records`](super::records)), so a contact
//! create — its row, tags, audit event, outbox event and idempotency key, all
//! kept — is one round trip: `BEGIN`, the rows and the end together.
//! `IMMEDIATE` takes the write lock up front, so a write never fails halfway
//! because another process (a command-line job) started writing first.
//!
//! **Group commit.** A commit writes every page the transaction changed to
//! the log: a contact create touches some twenty pages (the row, fourteen
//! indexes, tags, audit and outbox rows), and writing them was most of a
//! create's time. So when other writes are already waiting for the
//! connection, a finished transaction does not commit: it leaves its work in
//! the open transaction, lets the waiting writes run theirs, each inside a
//! `SAVEPOINT` of its own (a failing one rolls back to it and takes nothing
//! else with it), and the first of them to come back for the connection
//! commits them all at once; pages they share are written once. No write
//! answers before the commit that holds it has succeeded, and a failed commit
//! fails every write it held. A write with nobody waiting commits at once, as
//! before.

use std::{
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use sqlx::{Connection, SqliteConnection, sqlite::SqliteConnectOptions};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// A write waits at most this long for the connection (then 503, as a
/// pool's acquire timeout would).
const WAIT: Duration = Duration::from_secs(30);

/// At most this many transactions share one commit, so the log a commit
/// writes stays a few megabytes even when writes never stop coming.
const MAX_SHARED: usize = 256;

#[derive(Clone)]
pub struct Writer {
    slot: Arc<Mutex<Slot>>,
    /// Writes waiting to begin: while there are some, a finished
    /// transaction leaves its commit to them.
    waiting: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
}

/// What the lock guards: the connection, and the transaction that several
/// writes share while its commit is deferred.
struct Slot {
    conn: Option<SqliteConnection>,
    shared: Option<Shared>,
    /// A transaction was dropped where its rollback could not run (a
    /// runtime shutting down): the next write rolls it back first.
    left_open: bool,
}

/// Finished writes whose commit is still to come.
struct Shared {
    writes: usize,
    outcome: watch::Sender<Option<Outcome>>,
}

/// How a shared commit went (`sqlx::Error` cannot be cloned to every write
/// it held: they all get this message, as a 503).
type Outcome = Result<(), Arc<str>>;

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The writer connection, held until dropped.
pub struct Held(OwnedMutexGuard<Slot>);

impl Deref for Held {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.0.conn.as_ref().expect("a held writer is open")
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.0.conn.as_mut().expect("a held writer is open")
    }
}

impl Held {
    /// Commits the writes that wait for a shared commit, and tells them.
    async fn commit_shared(&mut self) -> Outcome {
        let Some(shared) = self.0.shared.take() else {
            return Ok(());
        };
        let outcome = sqlx::raw_sql("COMMIT")
            .execute(&mut **self)
            .await
            .map(|_| ())
            .map_err(|err| Arc::<str>::from(err.to_string()));
        if outcome.is_err() {
            // The log could not be written (a full disk, say): whatever
            // SQLite kept of the transaction goes, so the next write starts
            // clean. There may be nothing left to roll back.
            sqlx::raw_sql("ROLLBACK").execute(&mut **self).await.ok();
        }
        shared.outcome.send_replace(Some(outcome.clone()));
        outcome
    }
}

impl Writer {
    pub async fn open(options: &SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        let conn = SqliteConnection::connect_with(options).await?;
        Ok(Self {
            slot: Arc::new(Mutex::new(Slot {
                conn: Some(conn),
                shared: None,
                left_open: false,
            })),
            waiting: Arc::default(),
            closed: Arc::default(),
        })
    }

    /// Waits for the connection (first come, first served), leaving a
    /// shared transaction open. A transaction left open by a write that could
    /// not roll back is rolled back first, so nothing runs inside it.
    async fn acquire(&self) -> Result<Held, sqlx::Error> {
        let guard = tokio::time::timeout(WAIT, self.slot.clone().lock_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?;
        if guard.conn.is_none() {
            return Err(sqlx::Error::PoolClosed);
        }
        let mut held = Held(guard);
        if std::mem::take(&mut held.0.left_open) {
            tracing::warn!("rolling back a transaction left open on the writer connection");
            sqlx::raw_sql("ROLLBACK").execute(&mut *held).await.ok();
            if let Some(shared) = held.0.shared.take() {
                let abandoned = "a write sharing the commit was abandoned";
                shared.outcome.send_replace(Some(Err(abandoned.into())));
            }
        }
        Ok(held)
    }

    /// Waits for the connection, for statements outside a transaction:
    /// writes waiting for a shared commit are committed first, so what runs
    /// next commits on its own and sees only committed work.
    pub async fn hold(&self) -> Result<Held, sqlx::Error> {
        let mut held = self.acquire().await?;
        held.commit_shared().await.map_err(failed_commit)?;
        Ok(held)
    }

    /// Starts a transaction: inside the shared one when writes wait for its
    /// commit, else a transaction of its own. The statement that starts it
    /// goes with its first round trip (see [`SqliteTx::take_begin`]).
    pub async fn begin(&self) -> Result<SqliteTx, sqlx::Error> {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let held = self.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let held = held?;
        let joined = held.0.shared.is_some();
        Ok(SqliteTx {
            held: Some(held),
            joined,
            begin: Some(if joined {
                "SAVEPOINT write"
            } else {
                "BEGIN IMMEDIATE"
            }),
            commits: None,
            writer: self.clone(),
        })
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the connection once the writes before have finished; later
    /// ones fail with `PoolClosed`.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let mut slot = self.slot.clone().lock_owned().await;
        if slot.conn.is_none() {
            return;
        }
        let mut held = Held(slot);
        held.commit_shared().await.ok();
        slot = held.0;
        if let Some(conn) = slot.conn.take()
            && let Err(err) = conn.close().await
        {
            tracing::warn!(%err, "could not close the SQLite writer connection");
        }
    }
}

fn failed_commit(message: Arc<str>) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!(
        "the commit failed: {message}"
    )))
}

/// A transaction on the writer connection. Its last statements end with
/// [`ending`](Self::ending), then [`committed`](Self::committed) waits for
/// the commit. Dropped before that it rolls back (only its own work, when it
/// ran inside a shared transaction), and the next write waits for that.
pub struct SqliteTx {
    held: Option<Held>,
    /// Began as a `SAVEPOINT` inside a shared transaction.
    joined: bool,
    /// The statement that starts the transaction, until a round trip has
    /// carried it.
    begin: Option<&'static str>,
    /// Whether its ending commits (decided by [`ending`](Self::ending)).
    commits: Option<bool>,
    writer: Writer,
}

impl SqliteTx {
    /// The statement that starts the transaction, for the caller to send
    /// first in its round trip; `None` once taken.
    pub fn take_begin(&mut self) -> Option<&'static str> {
        self.begin.take()
    }

    /// Sends the statement that starts the transaction, unless a round trip
    /// has carried it already.
    pub async fn open(&mut self) -> Result<(), sqlx::Error> {
        match self.take_begin() {
            Some(begin) => sqlx::raw_sql(begin).execute(&mut **self).await.map(|_| ()),
            None => Ok(()),
        }
    }

    /// The statements that end the transaction, to send with its last rows:
    /// it commits now unless other writes are waiting for the connection
    /// (and the shared commit has room); empty when it leaves its commit to
    /// them.
    pub fn ending(&mut self) -> &'static str {
        let held = self.held.as_ref().expect("an open transaction");
        let sharing = held.0.shared.as_ref().map_or(0, |s| s.writes);
        let commits = self.writer.waiting.load(Ordering::Acquire) == 0 || sharing >= MAX_SHARED;
        self.commits = Some(commits);
        match (self.joined, commits) {
            (false, true) => "COMMIT",
            (false, false) => "",
            (true, true) => "RELEASE write; COMMIT",
            (true, false) => "RELEASE write",
        }
    }

    /// The transaction's last round trip, ending with [`ending`](Self::ending),
    /// has run (if it has not, the ending runs now): returns once its work is
    /// committed, and lets the next write have the connection.
    pub async fn committed(mut self) -> Result<(), sqlx::Error> {
        self.open().await?;
        if self.commits.is_none() {
            let ending = self.ending();
            if !ending.is_empty() {
                sqlx::raw_sql(ending).execute(&mut *self).await?;
            }
        }
        let mut held = self.held.take().expect("an open transaction");
        if self.commits == Some(true) {
            if let Some(shared) = held.0.shared.take() {
                shared.outcome.send_replace(Some(Ok(())));
            }
            return Ok(());
        }
        let shared = held.0.shared.get_or_insert_with(|| Shared {
            writes: 0,
            outcome: watch::channel(None).0,
        });
        shared.writes += 1;
        let mut outcome = shared.outcome.subscribe();
        drop(held);
        // Back in line behind the writes that were waiting: the last of them
        // commits for all, or, if more keep coming, the first of this shared
        // transaction to get the connection back does.
        let back = self.writer.slot.clone().lock_owned();
        let told = tokio::select! {
            biased;
            told = outcome.changed() => match told {
                Ok(()) => outcome.borrow_and_update().clone(),
                Err(_) => None,
            },
            slot = back => {
                let told = outcome.borrow_and_update().clone();
                match told {
                    Some(told) => Some(told),
                    None if slot.conn.is_some() => Some(Held(slot).commit_shared().await),
                    None => None,
                }
            }
        };
        told.unwrap_or_else(|| Err("the writer connection closed".into()))
            .map_err(failed_commit)
    }
}

impl Deref for SqliteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.held.as_ref().expect("an open transaction")
    }
}

impl DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.held.as_mut().expect("an open transaction")
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        let Some(mut held) = self.held.take() else {
            return;
        };
        if self.begin.is_some() {
            // Nothing was sent: there is nothing to undo.
            return;
        }
        let joined = self.joined;
        // Runs on the runtime that dropped it; the connection stays held
        // (so no other write starts) until the rollback has run. Without a
        // runtime the next `begin` rolls the transaction back first.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            held.0.left_open = true;
            return;
        };
        runtime.spawn(async move {
            if joined {
                // Only this write's own work goes; the shared transaction
                // stays for the writes that wait for its commit. If
                // SQLite already rolled it all back (on some errors it
                // does), those writes are told their commit failed.
                let undone = sqlx::raw_sql("ROLLBACK TO write; RELEASE write")
                    .execute(&mut *held)
                    .await;
                if let Err(err) = undone
                    && let Some(shared) = held.0.shared.take()
                {
                    sqlx::raw_sql("ROLLBACK").execute(&mut *held).await.ok();
                    shared
                        .outcome
                        .send_replace(Some(Err(err.to_string().into())));
                }
            } else if let Err(err) = sqlx::raw_sql("ROLLBACK").execute(&mut *held).await {
                // SQLite already rolled back on some errors (a full
                // disk, for one); there is nothing left to undo then.
                tracing::debug!(%err, "rollback");
            }
        });
    }
}

#[cfg(test)]
mod tests;
