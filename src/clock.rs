//! The server's clock, injectable so that rules which depend on time
//! (service-level due times, token expiry, point expiry, periods) can be
//! tested on a chosen day instead of whatever day the tests happen to run.
//!
//! A server owns one [`Clock`]. Every request, and every background job, runs
//! inside [`Clock::scope`], and [`now`] reads the clock of the scope it runs
//! in. That keeps the ~80 places that ask for the time free of a clock
//! parameter while still letting each server in one process (the test suite
//! runs many at once) have its own clock. Outside any scope [`now`] is the
//! system clock.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::Instant,
};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

tokio::task_local! {
    static CURRENT: Clock;
}

/// Either the system clock, or a clock that starts at a chosen instant and
/// then runs at real speed (so durations and ordering still behave), and can
/// be set or moved forward by whoever holds it.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<Anchor>>>);

#[derive(Debug)]
struct Anchor {
    at: DateTime<Utc>,
    since: Instant,
}

impl Clock {
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(Anchor {
            at: start,
            since: Instant::now(),
        }))))
    }

    /// The current time, truncated to microseconds: PostgreSQL keeps
    /// microseconds, so truncating here makes ETags, equality and keyset
    /// cursors agree on both engines.
    pub fn now(&self) -> DateTime<Utc> {
        let now = match &self.0 {
            None => Utc::now(),
            Some(anchor) => {
                let anchor = anchor.lock().unwrap_or_else(|e| e.into_inner());
                let elapsed = TimeDelta::from_std(anchor.since.elapsed()).unwrap_or(TimeDelta::MAX);
                anchor.at.checked_add_signed(elapsed).unwrap_or(anchor.at)
            }
        };
        now.trunc_subsecs(6)
    }

    /// Makes the clock read `at` now (a system clock cannot be set; ignored).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(anchor) = &self.0 {
            let mut anchor = anchor.lock().unwrap_or_else(|e| e.into_inner());
            anchor.at = at;
            anchor.since = Instant::now();
        }
    }

    /// Moves the clock forward (or back, for a negative `by`).
    pub fn advance(&self, by: TimeDelta) {
        self.set(
            self.now()
                .checked_add_signed(by)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
    }

    /// The clock of the current request or job (the system clock outside any).
    pub fn current() -> Self {
        CURRENT.try_with(Clone::clone).unwrap_or_default()
    }

    /// Runs `work` with this clock as the one [`now`] reads.
    pub fn scope<F: Future>(self, work: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, work)
    }
}

/// The time on the clock of the current request or job.
pub fn now() -> DateTime<Utc> {
    CURRENT
        .try_with(Clock::now)
        .unwrap_or_else(|_| Clock::system().now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_started_clock_reads_its_start_and_can_be_set_and_advanced() {
        let clock = Clock::starting_at(at("2026-06-01T09:00:00Z"));
        assert!((clock.now() - at("2026-06-01T09:00:00Z")).num_seconds() < 5);
        clock.set(at("2030-01-31T00:00:00Z"));
        clock.advance(TimeDelta::days(1));
        assert!((clock.now() - at("2030-02-01T00:00:00Z")).num_seconds() < 5);
    }

    #[tokio::test]
    async fn now_reads_the_clock_of_its_scope_and_the_system_clock_outside() {
        let clock = Clock::starting_at(at("2001-02-03T04:05:06Z"));
        let inside = clock.scope(async { now() }).await;
        assert_eq!(inside.format("%Y-%m-%d").to_string(), "2001-02-03");
        assert!((now() - Utc::now()).num_seconds().abs() < 5);
    }
}
