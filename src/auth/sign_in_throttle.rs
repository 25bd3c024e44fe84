//! Sign-in throttling, shared by every node through the database.
//!
//! Failed sign-ins are counted per account (the email, whether or not a user
//! has it) and per client address. A few failures cost nothing; after that
//! each further failure blocks that account or address for twice as long as
//! the one before (1 s, 2 s, 4 s … at most 15 minutes), and a blocked attempt
//! gets 429 before any password is hashed. A count is forgotten an hour after
//! its last failure; a successful sign-in clears its account's count (not the
//! address's, so one known password does not reset a spray across accounts).

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use crate::{
    db::{Db, now},
    http::ApiError,
    on_db, on_writer,
};

/// Failures an account may have before it is slowed down.
pub const ACCOUNT_FREE_FAILURES: i64 = 5;
/// Failures an address may have (many people can share one behind a NAT).
pub const ADDRESS_FREE_FAILURES: i64 = 20;
/// The longest block.
pub const MAX_BLOCK: Duration = Duration::minutes(15);
/// How long a count is kept after its last failure.
pub const FORGET_AFTER: Duration = Duration::hours(1);

/// The two counters one sign-in attempt is measured against.
pub struct Subjects {
    account: String,
    address: String,
}

impl Subjects {
    pub fn new(email: &str, address: IpAddr) -> Self {
        Self {
            account: format!("account:{}", email.trim().to_lowercase()),
            address: format!("address:{address}"),
        }
    }
}

/// How long the block after `failures` failures lasts, if there is one.
pub fn block_after(failures: i64, free: i64) -> Option<Duration> {
    let over = failures - free;
    if over <= 0 {
        return None;
    }
    // 2^(over-1) seconds; from 2^10 s on the cap applies.
    let seconds = 1i64 << (over - 1).min(10);
    Some(Duration::seconds(seconds).min(MAX_BLOCK))
}

#[derive(sqlx::FromRow)]
struct Counter {
    subject: String,
    blocked_until: DateTime<Utc>,
}

/// Refuses the attempt with 429 while either counter is blocked. Returns
/// whether the account has failures on record (so a success knows to clear them).
pub async fn check(db: &Db, subjects: &Subjects) -> Result<bool, ApiError> {
    let now = now();
    let counters: Vec<Counter> = on_db!(db, pool => sqlx::query_as(
        "SELECT subject, blocked_until FROM sign_in_failures WHERE subject IN ($1, $2) AND last_failed_at > $3"
    ).bind(&subjects.account).bind(&subjects.address).bind(now - FORGET_AFTER).fetch_all(pool).await)?;
    let blocked_until = counters.iter().map(|c| c.blocked_until).max();
    if let Some(until) = blocked_until.filter(|until| *until > now) {
        let wait = (until - now).to_std().unwrap_or_default();
        return Err(ApiError::too_many_requests(
            "Too many failed sign-ins for this account or from this address; wait before trying again.",
            wait,
        ));
    }
    Ok(counters.iter().any(|c| c.subject == subjects.account))
}

/// Counts one failure against both subjects and sets their blocks.
pub async fn record_failure(db: &Db, subjects: &Subjects) -> Result<(), ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    for (subject, free) in [
        (&subjects.account, ACCOUNT_FREE_FAILURES),
        (&subjects.address, ADDRESS_FREE_FAILURES),
    ] {
        let failures: i64 = crate::on_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO sign_in_failures (subject, failures, last_failed_at, blocked_until) VALUES ($1, 1, $2, $2)
             ON CONFLICT (subject) DO UPDATE SET
                 failures = CASE WHEN sign_in_failures.last_failed_at <= $3 THEN 1 ELSE sign_in_failures.failures + 1 END,
                 last_failed_at = $2
             RETURNING failures"
        ).bind(subject).bind(now).bind(now - FORGET_AFTER).fetch_one(&mut **c).await)?;
        let until = now + block_after(failures, free).unwrap_or_default();
        crate::on_tx!(&mut tx, c => sqlx::query("UPDATE sign_in_failures SET blocked_until = $1 WHERE subject = $2")
            .bind(until).bind(subject).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(())
}

/// Forgets the account's failures after a successful sign-in.
pub async fn clear_account(db: &Db, subjects: &Subjects) -> Result<(), ApiError> {
    on_writer!(db, pool => sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1")
        .bind(&subjects.account).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes counters nobody has failed for an hour; run periodically.
pub async fn purge_forgotten(db: &Db) -> Result<u64, sqlx::Error> {
    on_writer!(db, pool => sqlx::query("DELETE FROM sign_in_failures WHERE last_failed_at <= $1")
        .bind(now() - FORGET_AFTER).execute(pool).await.map(|r| r.rows_affected()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_double_after_the_free_failures_and_stop_at_fifteen_minutes() {
        assert_eq!(block_after(5, 5), None);
        assert_eq!(block_after(6, 5), Some(Duration::seconds(1)));
        assert_eq!(block_after(7, 5), Some(Duration::seconds(2)));
        assert_eq!(block_after(10, 5), Some(Duration::seconds(16)));
        assert_eq!(block_after(15, 5), Some(Duration::seconds(512)));
        assert_eq!(block_after(16, 5), Some(MAX_BLOCK));
        assert_eq!(block_after(10_000, 5), Some(MAX_BLOCK));
    }

    #[test]
    fn accounts_are_counted_by_email_whatever_its_case() {
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        let a = Subjects::new(" Ana@Example.com", address);
        let b = Subjects::new("ana@example.com", address);
        assert_eq!(a.account, b.account);
        assert_eq!(a.address, "address:192.0.2.7");
    }
}
