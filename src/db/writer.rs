//! SQLite's one writer connection, and the transactions that run on it.
//!
//! Not a pool: a pool pings every connection that comes back to it (a round
//! trip to the connection's thread), and with one connection that ping stood
//! between every two writes. Here the connection sits behind a fair lock
//! that writers take in turn.
//!
//! A transaction sends `BEGIN IMMEDIATE` when it starts and its `COMMIT`
//! with the last rows it keeps (see [`records`](super::records)), so a
//! contact create is three round trips: `BEGIN`, the row, and its tags,
//! audit event, outbox event, idempotency key and `COMMIT` together. It was
//! five (`BEGIN`, the row, the rest, `COMMIT`, the pool's ping).
//! `IMMEDIATE` takes the write lock up front, so a write never fails halfway
//! because another process (a command-line job) started writing first.

use std::{
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{Connection, SqliteConnection, sqlite::SqliteConnectOptions};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A write waits at most this long for the connection (then 503, as a
/// pool's acquire timeout would).
const WAIT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Writer {
    conn: Arc<Mutex<Option<SqliteConnection>>>,
    closed: Arc<AtomicBool>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The writer connection, held until dropped.
pub struct Held(OwnedMutexGuard<Option<SqliteConnection>>);

impl Deref for Held {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.0.as_ref().expect("a held writer is open")
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.0.as_mut().expect("a held writer is open")
    }
}

impl Writer {
    pub async fn open(options: &SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        let conn = SqliteConnection::connect_with(options).await?;
        Ok(Self {
            conn: Arc::new(Mutex::new(Some(conn))),
            closed: Arc::default(),
        })
    }

    /// Waits for the connection (first come, first served).
    pub async fn hold(&self) -> Result<Held, sqlx::Error> {
        let guard = tokio::time::timeout(WAIT, self.conn.clone().lock_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?;
        if guard.is_none() {
            return Err(sqlx::Error::PoolClosed);
        }
        Ok(Held(guard))
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<SqliteTx, sqlx::Error> {
        let mut held = self.hold().await?;
        if let Err(err) = sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *held).await {
            // A transaction left open (its rollback could not run: a runtime
            // shutting down) is rolled back here rather than continued.
            if !err.to_string().contains("within a transaction") {
                return Err(err);
            }
            tracing::warn!("rolling back a transaction left open on the writer connection");
            sqlx::raw_sql("ROLLBACK; BEGIN IMMEDIATE")
                .execute(&mut *held)
                .await?;
        }
        Ok(SqliteTx { held: Some(held) })
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the connection once the writes before have finished; later
    /// ones fail with `PoolClosed`.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Some(conn) = self.conn.lock().await.take()
            && let Err(err) = conn.close().await
        {
            tracing::warn!(%err, "could not close the SQLite writer connection");
        }
    }
}

/// A transaction on the writer connection. Dropped before
/// [`committed`](Self::committed) it rolls back, and the next write waits
/// for that rollback.
pub struct SqliteTx {
    held: Option<Held>,
}

impl SqliteTx {
    /// The caller ran `COMMIT` (with the transaction's last statements):
    /// lets the next write have the connection.
    pub fn committed(mut self) {
        self.held = None;
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
        // Runs on the runtime that dropped it; the connection stays held
        // (so no other write starts) until the rollback has run. Without a
        // runtime the next `begin` finds the transaction open and rolls it
        // back itself.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = sqlx::raw_sql("ROLLBACK").execute(&mut *held).await {
                    // SQLite already rolled back on some errors (a full
                    // disk, for one); there is nothing left to undo then.
                    tracing::debug!(%err, "rollback");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn writer() -> (Writer, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("rapport-writer-{}.db", uuid::Uuid::now_v7()));
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let writer = Writer::open(&options).await.unwrap();
        let mut held = writer.hold().await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
            .execute(&mut *held)
            .await
            .unwrap();
        drop(held);
        (writer, path)
    }

    async fn values(writer: &Writer) -> Vec<i64> {
        let mut held = writer.hold().await.unwrap();
        sqlx::query_scalar("SELECT v FROM t ORDER BY v")
            .fetch_all(&mut *held)
            .await
            .unwrap()
    }

    async fn insert(tx: &mut SqliteTx, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut **tx)
            .await
            .map(|_| ())
    }

    #[tokio::test]
    async fn a_commit_folded_into_the_last_statement_keeps_the_writes() {
        let (writer, path) = writer().await;
        let mut tx = writer.begin().await.unwrap();
        insert(&mut tx, "INSERT INTO t VALUES (1)").await.unwrap();
        insert(&mut tx, "INSERT INTO t VALUES (2); COMMIT")
            .await
            .unwrap();
        tx.committed();
        assert_eq!(values(&writer).await, [1, 2]);
        std::fs::remove_file(path).ok();
    }

    #[tokio::test]
    async fn a_dropped_transaction_rolls_back_before_the_next_write() {
        let (writer, path) = writer().await;
        let mut tx = writer.begin().await.unwrap();
        insert(&mut tx, "INSERT INTO t VALUES (1)").await.unwrap();
        drop(tx);
        let mut tx = writer.begin().await.unwrap();
        insert(&mut tx, "INSERT INTO t VALUES (2)").await.unwrap();
        // The commit's batch fails halfway: COMMIT never runs, and the
        // rollback takes every row of the transaction with it.
        let failed = insert(
            &mut tx,
            "INSERT INTO t VALUES (3); INSERT INTO t VALUES (2); COMMIT",
        )
        .await;
        assert!(failed.is_err());
        drop(tx);
        assert_eq!(values(&writer).await, Vec::<i64>::new());
        std::fs::remove_file(path).ok();
    }

    #[tokio::test]
    async fn a_transaction_left_open_is_rolled_back_by_the_next_begin() {
        let (writer, path) = writer().await;
        let mut held = writer.hold().await.unwrap();
        sqlx::raw_sql("BEGIN; INSERT INTO t VALUES (1)")
            .execute(&mut *held)
            .await
            .unwrap();
        drop(held);
        let mut tx = writer.begin().await.unwrap();
        insert(&mut tx, "INSERT INTO t VALUES (2); COMMIT")
            .await
            .unwrap();
        tx.committed();
        assert_eq!(values(&writer).await, [2]);
        std::fs::remove_file(path).ok();
    }

    #[tokio::test]
    async fn a_closed_writer_refuses_writes() {
        let (writer, path) = writer().await;
        writer.close().await;
        assert!(writer.is_closed());
        assert!(matches!(writer.begin().await, Err(sqlx::Error::PoolClosed)));
        std::fs::remove_file(path).ok();
    }
}
