//! An idempotency key that commits with the request's own transaction.
//!
//! The idempotency middleware runs a keyed request inside [`scope`]; the
//! first [`Tx`](super::Tx) the request commits writes the key's row first, so the key,
//! the business write and its audit event commit together: one commit where
//! a separate claim took three. When another request with the same key got
//! there first, that row insert fails, the transaction rolls back, and the
//! middleware answers from the first request's record instead.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::{
    is_unique_violation_on,
    records::{Bind, Record},
};

/// The key a request holds while it runs.
#[derive(Debug)]
pub struct Claim {
    pub principal: String,
    pub key: String,
    pub request_hash: String,
    pub created_at: DateTime<Utc>,
    state: Mutex<State>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No transaction has committed yet.
    Unwritten,
    /// The row was written with the request's first commit.
    Written,
    /// Another request holds the key: this one's writes were rolled back.
    Lost,
}

impl Claim {
    pub fn new(
        principal: String,
        key: String,
        request_hash: String,
        created_at: DateTime<Utc>,
    ) -> Arc<Self> {
        Arc::new(Self {
            principal,
            key,
            request_hash,
            created_at,
            state: Mutex::new(State::Unwritten),
        })
    }

    pub fn state(&self) -> State {
        *self.state.lock().expect("claim state")
    }

    fn set(&self, state: State) {
        *self.state.lock().expect("claim state") = state;
    }
}

tokio::task_local! {
    static CLAIM: Arc<Claim>;
}

/// The key the current request holds, if any.
pub fn current() -> Option<Arc<Claim>> {
    CLAIM.try_with(Arc::clone).ok()
}

/// Runs `work` (the request) holding `claim`.
pub async fn scope<F: std::future::Future>(claim: Arc<Claim>, work: F) -> F::Output {
    CLAIM.scope(claim, work).await
}

/// The key of the current request, when it holds one not yet written: the
/// next [`Tx::commit`](super::Tx::commit) writes it (see [`Claim::record`]).
pub(super) fn unwritten() -> Option<Arc<Claim>> {
    current().filter(|claim| claim.state() == State::Unwritten)
}

impl Claim {
    /// The key's row, written with the transaction's commit.
    pub(super) fn record(&self) -> Record {
        Record::new(
            "INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES ($1, $2, $3, $4)",
            vec![
                Bind::Text(self.principal.clone()),
                Bind::Text(self.key.clone()),
                Bind::Text(self.request_hash.clone()),
                Bind::Time(self.created_at),
            ],
        )
    }

    pub(super) fn written(&self) {
        self.set(State::Written);
    }

    /// The commit failed: when another request holds the key, this one lost.
    /// (The key's row may share its statement with the write's own rows, whose
    /// unique keys are the write's business: a duplicate email is not a lost key.)
    pub(super) fn failed(&self, err: &sqlx::Error) {
        if is_unique_violation_on(err, "idempotency_keys") {
            self.set(State::Lost);
        }
    }
}
