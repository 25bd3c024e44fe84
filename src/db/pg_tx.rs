//! A PostgreSQL transaction that sends `BEGIN` only when it must.
//!
//! A write whose statements are all kept rows (see [`records`](super::records))
//! — a contact create: the row, its tags, audit and outbox events, the
//! idempotency key — is written as one statement at its commit, and one
//! statement is atomic on its own: it needs neither `BEGIN` nor `COMMIT`.
//! Sending them made a create four round trips where one does the work.
//! So the connection starts idle and the transaction opens at its first
//! statement that is not its commit; a write that never sends one commits
//! its kept rows as a single autocommitted statement.

use std::ops::{Deref, DerefMut};

use sqlx::{PgConnection, Postgres, Transaction, pool::PoolConnection};

pub struct PgTx(State);

enum State {
    /// A connection on which nothing has been sent yet.
    Idle(PoolConnection<Postgres>),
    /// `BEGIN` was sent.
    Open(Transaction<'static, Postgres>),
    /// `BEGIN` failed, and the connection went back to the pool with the
    /// failed transaction: the error was returned, nothing runs here again.
    Failed,
}

impl PgTx {
    pub(super) fn new(conn: PoolConnection<Postgres>) -> Self {
        Self(State::Idle(conn))
    }

    /// Whether nothing has been sent yet.
    pub(super) fn is_idle(&self) -> bool {
        matches!(self.0, State::Idle(_))
    }

    /// Sends `BEGIN` unless it was sent already.
    pub(super) async fn open(&mut self) -> Result<(), sqlx::Error> {
        match std::mem::replace(&mut self.0, State::Failed) {
            State::Idle(conn) => self.0 = State::Open(Transaction::begin(conn, None).await?),
            State::Open(tx) => self.0 = State::Open(tx),
            State::Failed => return Err(sqlx::Error::PoolClosed),
        }
        Ok(())
    }

    /// Commits what was sent since `BEGIN`; an idle connection has nothing
    /// open (each statement it ran committed on its own).
    pub(super) async fn commit(self) -> Result<(), sqlx::Error> {
        match self.0 {
            State::Open(tx) => tx.commit().await,
            State::Idle(_) => Ok(()),
            State::Failed => Err(sqlx::Error::PoolClosed),
        }
    }
}

impl Deref for PgTx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match &self.0 {
            State::Idle(conn) => conn,
            State::Open(tx) => tx,
            State::Failed => unreachable!("a transaction whose BEGIN failed is not used again"),
        }
    }
}

impl DerefMut for PgTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match &mut self.0 {
            State::Idle(conn) => conn,
            State::Open(tx) => tx,
            State::Failed => unreachable!("a transaction whose BEGIN failed is not used again"),
        }
    }
}
