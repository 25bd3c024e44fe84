//! SQLite's write-ahead log, copied back into the database file in the
//! background.
//!
//! By default SQLite checkpoints in the connection that commits: every
//! thousand pages one write also copies the log into the database and syncs
//! both files, while every other write waits for the one writer connection
//! (measured: POST contact 873/s with that, 1,170/s with a ten times longer
//! log, and a p99 of 670 ms with a hundred times longer one). Here a
//! connection of its own checkpoints a few times a second in `PASSIVE` mode,
//! which takes no lock a writer or reader waits for; the writer's own
//! automatic checkpoint stays as a backstop at [`BACKSTOP_PAGES`], so the log
//! stays bounded if this task ever falls behind.

use std::time::Duration;

use sqlx::{sqlite::SqliteConnectOptions, sqlite::SqlitePoolOptions};

use super::Writer;

/// How often the log is copied back: at a thousand writes a second the log
/// then holds a few megabytes.
const EVERY: Duration = Duration::from_millis(250);

/// The writer checkpoints itself only when the log has grown this long
/// (pages of 4 KiB: 40 MiB).
pub const BACKSTOP_PAGES: u32 = 10_000;

/// Opens the checkpointing connection and starts its task; it ends when the
/// writer closes.
pub async fn start(options: SqliteConnectOptions, writer: Writer) -> Result<(), sqlx::Error> {
    let checkpointer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .idle_timeout(None)
        .connect_with(options)
        .await?;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            if writer.is_closed() {
                break;
            }
            if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&checkpointer)
                .await
            {
                tracing::warn!(%err, "could not checkpoint the SQLite log");
            }
        }
        checkpointer.close().await;
    });
    Ok(())
}
