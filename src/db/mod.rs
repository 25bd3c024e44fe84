//! One database handle for both engines.
//!
//! `Db` holds either SQLite pools or a PostgreSQL pool. Repository code writes
//! each query once and runs it through [`on_db!`] (reads), [`on_writer!`]
//! (single statements that write) or [`on_tx!`] (inside a [`Tx`]); the macros
//! expand the same body once per engine, so every arm is compiled against a
//! concrete pool and `Uuid`, `DateTime<Utc>` and `FromRow` work natively.
//!
//! SQLite gets a single writer connection and a separate pool of readers:
//! writers then queue in the pool instead of colliding on SQLite's write lock
//! and sleeping in its busy handler (measured in the team's ../shared/STACK.md: p99 75–170 ms with
//! several writers, 5–35 ms with one).

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

mod autovacuum;
mod carried;
mod checkpoint;
pub mod claim;
mod errors;
mod macros;
pub mod now;
mod pg_tx;
pub mod records;
pub mod refs;
pub mod split;
pub mod sql;
mod writer;
mod writes;
pub use errors::{
    is_foreign_key_violation, is_unavailable, is_unique_violation, is_unique_violation_on,
};
pub use now::{new_id, now};
pub use writer::Writer;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Each SQLite read connection's page cache. SQLite's default (2 MiB) times
/// 32 readers that random reads fill was most of the process's memory
/// (178 MB peak); the operating system's file cache holds the pages anyway.
const READER_CACHE_KIB: u32 = 256;

/// An open transaction on either engine. Dropping it without `commit` rolls
/// back, so a `?` anywhere between `begin` and `commit` leaves nothing behind.
pub struct Tx {
    /// Run statements through [`on_tx!`] or [`on!`], which first write what
    /// the transaction keeps (see [`records`]).
    pub conn: Conn,
    kept: records::Kept,
    /// Other requests' rows this commit may write with its own (see [`carried`]).
    carried: Arc<carried::Carried>,
    /// Other requests' idempotency keys, for writes this transaction makes
    /// on their behalf (see [`Tx::write_claim`]).
    claims: Vec<Arc<claim::Claim>>,
}

pub enum Conn {
    Sqlite(writer::SqliteTx),
    Postgres(pg_tx::PgTx),
}

impl Tx {
    fn new(conn: Conn, carried: Arc<carried::Carried>) -> Self {
        Self {
            conn,
            kept: records::Kept::default(),
            carried,
            claims: Vec::new(),
        }
    }

    /// Writes another request's idempotency key with this commit: this
    /// transaction does that request's work (a busy member's earnings
    /// written together), so its key commits or rolls back with it.
    pub fn write_claim(&mut self, claim: Arc<claim::Claim>) {
        if claim.state() == claim::State::Unwritten {
            self.claims.push(claim);
        }
    }

    /// Commits; a request holding an idempotency key writes it here first
    /// (see [`claim`]), so key and work commit or roll back together, in one
    /// round trip with the rows the transaction kept. On SQLite the commit
    /// may be shared with the writes waiting behind this one (see
    /// [`writer`]); this returns once it has happened.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let claims: Vec<Arc<claim::Claim>> = claim::unwritten()
            .into_iter()
            .chain(std::mem::take(&mut self.claims))
            .collect();
        for claim in &claims {
            self.append(claim.record());
        }
        // Rows other requests wait to see committed ride along, as many as
        // keep the commit one round trip (the end below is one more).
        let carried = self
            .carried
            .take(self.kept.room_in_round_trip().saturating_sub(1));
        for waiting in &carried {
            self.append(waiting.record.clone());
        }
        // On SQLite the end goes in the last round trip, after the rows kept.
        let ending = match &mut self.conn {
            Conn::Sqlite(tx) => tx.ending(),
            Conn::Postgres(_) => "",
        };
        if !ending.is_empty() {
            self.append(records::Record::new(ending, Vec::new()));
        }
        let committed = match self.flush_for_commit().await {
            Ok(()) => match self.conn {
                Conn::Sqlite(tx) => tx.committed().await,
                Conn::Postgres(tx) => tx.commit().await,
            },
            Err(err) => Err(err),
        };
        match &committed {
            Ok(()) => claims.iter().for_each(|claim| claim.written()),
            // With several keys, whose key another request holds is unknown:
            // each request finds out when it writes alone.
            Err(err) if claims.len() == 1 => claims[0].failed(err),
            Err(_) => {}
        }
        for waiting in carried {
            waiting.settle(committed.is_ok());
        }
        committed
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self.conn, Conn::Sqlite(_))
    }

    /// Row locks that only PostgreSQL needs: runs `select_for_update` (with
    /// `id` bound as `$1` when given) on PostgreSQL; on SQLite the single
    /// writer already serialises every write transaction, so nothing runs.
    /// The one place where the engines differ in locking (SQL text that
    /// differs goes through [`dialect!`]).
    pub async fn lock_rows(
        &mut self,
        select_for_update: &'static str,
        id: Option<uuid::Uuid>,
    ) -> Result<(), sqlx::Error> {
        if self.is_sqlite() {
            return Ok(());
        }
        self.flush().await?;
        if let Conn::Postgres(c) = &mut self.conn {
            let mut query = sqlx::query(select_for_update);
            if let Some(id) = id {
                query = query.bind(id);
            }
            query.execute(&mut **c).await?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite {
        reader: SqlitePool,
        writer: Writer,
        carried: Arc<carried::Carried>,
    },
    Postgres(PgPool, Arc<carried::Carried>),
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("RAPPORT_DATABASE_URL must start with sqlite:// or postgres://, got {0:?}")]
    UnknownScheme(String),
    #[error("RAPPORT_DATABASE_URL is not a valid database URL: {0}")]
    BadUrl(sqlx::Error),
    #[error("cannot open the database: {0}")]
    Open(sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(sqlx::migrate::MigrateError),
}

impl Db {
    /// Opens the pools with no statement timeout (migrations, command-line jobs).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, ConnectError> {
        Self::connect_with(url, max_connections, None).await
    }

    /// Opens the pools. Nothing is migrated here: see [`Db::migrate`]. On
    /// PostgreSQL every statement is cancelled after `statement_timeout`
    /// (the error maps to 503), so no request can hold a connection for long.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        statement_timeout: Option<Duration>,
    ) -> Result<Self, ConnectError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(ConnectError::BadUrl)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL + NORMAL survives a killed process; only an OS crash or
                // power loss can drop the last commits (see README).
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let writer = Writer::open(
                &options
                    .clone()
                    .pragma("wal_autocheckpoint", checkpoint::BACKSTOP_PAGES.to_string())
                    // A transaction inside a shared one (see `writer`) runs in a
                    // savepoint, whose journal of the pages it changes SQLite
                    // otherwise writes to a temporary file: ten times the log's
                    // own bytes per contact create (147 KB → 14 KB written).
                    .pragma("temp_store", "MEMORY"),
            )
            .await
            .map_err(ConnectError::Open)?;
            checkpoint::start(options.clone(), writer.clone())
                .await
                .map_err(ConnectError::Open)?;
            let reader = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(false)
                .connect_with(
                    options
                        .read_only(true)
                        .pragma("cache_size", format!("-{READER_CACHE_KIB}")),
                )
                .await
                .map_err(ConnectError::Open)?;
            Ok(Db::Sqlite {
                reader,
                writer,
                carried: Arc::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // JIT compilation pays off for queries that run for many seconds. Ours run for milliseconds
            // to a second, and compiling one took longer than running it (a year's customer metrics over
            // 1,000,000 transactions: 0.65 s to run, 0.7 s more to compile).
            let mut options = PgConnectOptions::from_str(url)
                .map_err(ConnectError::BadUrl)?
                .options([("jit", "off")]);
            if let Some(timeout) = statement_timeout {
                options = options.options([("statement_timeout", timeout.as_millis().to_string())]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(ConnectError::Open)?;
            Ok(Db::Postgres(pool, Arc::default()))
        } else {
            Err(ConnectError::UnknownScheme(url.to_string()))
        }
    }

    pub async fn migrate(&self) -> Result<(), ConnectError> {
        match self {
            Db::Sqlite { writer, .. } => match writer.hold().await {
                Ok(mut conn) => MIGRATOR.run(&mut *conn).await,
                Err(err) => Err(err.into()),
            },
            Db::Postgres(pool, _) => match MIGRATOR.run(pool).await {
                Ok(()) => autovacuum::tune(pool).await.map_err(Into::into),
                Err(err) => Err(err),
            },
        }
        .map_err(ConnectError::Migrate)
    }

    /// The handle one HTTP worker uses. On PostgreSQL a pool of its own, of
    /// this pool's size split over the workers, connecting as needed: workers
    /// then never contend for one pool's lock (measured in the team's ../shared/STACK.md: 14k →
    /// 17k GET/s at 64 connections). SQLite keeps the shared pools: its one
    /// writer connection must be the node's only one.
    pub fn for_worker(&self, workers: usize) -> Db {
        match self {
            Db::Sqlite { .. } => self.clone(),
            Db::Postgres(pool, carried) => {
                let workers = workers.max(1) as u32;
                let size = pool
                    .options()
                    .get_max_connections()
                    .div_ceil(workers)
                    .max(1);
                Db::Postgres(
                    PgPoolOptions::new()
                        .max_connections(size)
                        .test_before_acquire(false)
                        .acquire_timeout(Duration::from_secs(10))
                        .connect_lazy_with((*pool.connect_options()).clone()),
                    // Every worker's commits carry the node's waiting rows.
                    carried.clone(),
                )
            }
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Db::Sqlite { .. })
    }

    fn carried(&self) -> &carried::Carried {
        match self {
            Db::Sqlite { carried, .. } | Db::Postgres(_, carried) => carried,
        }
    }

    /// Starts a transaction on the pool that may write.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite {
                writer, carried, ..
            } => Tx::new(Conn::Sqlite(writer.begin().await?), carried.clone()),
            // `BEGIN` waits for the first statement (see `pg_tx`).
            Db::Postgres(pool, carried) => Tx::new(
                Conn::Postgres(pg_tx::PgTx::new(pool.acquire().await?)),
                carried.clone(),
            ),
        })
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match self {
            Db::Sqlite { reader, .. } => sqlx::query("SELECT 1").execute(reader).await.map(|_| ()),
            Db::Postgres(pool, _) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { reader, writer, .. } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Postgres(pool, _) => pool.close().await,
        }
    }
}

/// Where a query runs: on the node's pools, or inside an open transaction.
/// A repository function that both a plain read and a write transaction
/// need takes `impl Into<On<'_>>` and runs its query through [`on!`], so the
/// query is written once (no `get` / `get_in` pairs).
pub enum On<'a> {
    /// Outside any transaction, on the read pool.
    Read(&'a Db),
    /// Outside any transaction, on what may write (the PostgreSQL pool, or
    /// SQLite's writer connection).
    Write(&'a Db),
    /// Inside the caller's transaction (its writes and locks are seen).
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Db> for On<'a> {
    fn from(db: &'a Db) -> Self {
        On::Read(db)
    }
}

impl<'a> From<&'a mut Tx> for On<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        On::Tx(tx)
    }
}

impl On<'_> {
    pub fn is_sqlite(&self) -> bool {
        match self {
            On::Read(db) | On::Write(db) => db.is_sqlite(),
            On::Tx(tx) => tx.is_sqlite(),
        }
    }

    /// The same place again, for one more query.
    pub fn reborrow(&mut self) -> On<'_> {
        match self {
            On::Read(db) => On::Read(db),
            On::Write(db) => On::Write(db),
            On::Tx(tx) => On::Tx(tx),
        }
    }

    /// The same transaction, or the pool that may write.
    pub fn writer(&mut self) -> On<'_> {
        match self {
            On::Read(db) | On::Write(db) => On::Write(db),
            On::Tx(tx) => On::Tx(tx),
        }
    }
}
