//! Where SQLite's writes run.
//!
//! Each HTTP worker is a single-threaded runtime that polls the tasks its own
//! sockets woke before the ones other threads woke (tokio's current-thread
//! scheduler looks at its remote queue once every 31 polls). sqlx answers
//! every SQLite statement from the connection's own thread, so under load a
//! request holding SQLite's one writer connection waited behind dozens of
//! other requests after each statement of its transaction, while every other
//! write waited for the connection: with 8 clients listing contacts, 8
//! creating ones made 89 contacts a second (826 alone).
//!
//! [`Db::write`] runs a write on a thread of its own instead, where only
//! writes wait: each statement's answer is picked up at once and the writer
//! connection is held only as long as the database needs it (the same mix:
//! 325 a second). Every handler that writes calls it; on PostgreSQL, where
//! each request has its own connection, the write runs where it was called.

use std::{future::Future, sync::OnceLock};

use tokio::runtime::{Builder, Handle};

use super::{Db, claim};
use crate::clock::Clock;

impl Db {
    /// Runs `work` (which writes through this `Db`) where writes run best:
    /// on SQLite on the writes thread, with the request's clock and
    /// idempotency key; on PostgreSQL right here.
    pub async fn write<T, Fut>(&self, work: impl FnOnce(Db) -> Fut) -> T
    where
        Fut: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let work = work(self.clone());
        if !self.is_sqlite() {
            return work.await;
        }
        let work = Clock::current().scope(work);
        let task = match claim::current() {
            Some(claim) => writes_thread().spawn(claim::scope(claim, work)),
            None => writes_thread().spawn(work),
        };
        match task.await {
            Ok(value) => value,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => panic!("the writes thread stopped: {err}"),
        }
    }
}

/// The writes thread's runtime, started on first use and kept for the
/// process (every server in the process shares it; their pools differ).
fn writes_thread() -> &'static Handle {
    static HANDLE: OnceLock<Handle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let runtime = Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the writes runtime");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("rapport-writes".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the writes thread");
        handle
    })
}
