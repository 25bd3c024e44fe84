//! Service levels as plain functions: which targets apply to an item, when its
//! clocks run out, and the SQL that tells its `sla_state` at read time.
//!
//! ## Targets
//!
//! | priority | first response | resolution |
//! |---|---|---|
//! | urgent | 4 hours | 2 business days |
//! | high | 8 hours | 5 business days |
//! | normal (default) | 24 hours | 10 business days |
//! | low | 48 hours | 15 business days |
//!
//! A channel's own targets (`first_response_minutes`,
//! `resolution_business_days`) replace the priority's for `normal` and `low`
//! items; `high` and `urgent` items get whichever is stricter, so escalating
//! never loosens a promise.
//!
//! ## Clocks
//!
//! The first-response clock runs in elapsed time from `received_at` (a 24-hour
//! promise runs through nights and weekends). The resolution clock counts
//! business days in the working calendar (see [`super::calendar`]) and stops
//! while the item waits on the customer: on leaving `waiting_on_customer`,
//! `resolution_due_at` moves later by exactly the time spent waiting.
//!
//! ## State
//!
//! `sla_state` is computed by the database on every read from two moments
//! and the current time (so it is never stale): the moment the item is
//! breached ([`super::sla_state::sla_breach_at_sql`]) and the moment it goes at risk
//! ([`super::sla_state::sla_risk_at_sql`]), both derived from the stored due times and indexed,
//! so listing by state reads an index range instead of every row:
//! `breached` once any target was missed (first response late or overdue,
//! resolution late or overdue; it stays breached), else `met` once resolved,
//! else `at_risk` when less than 20% of a running target's window is left,
//! else `on_track`. While waiting on the customer the resolution clock reads
//! the moment the wait began.

use chrono::{DateTime, Duration, Utc};

use super::calendar::WorkCalendar;
use crate::choice;

choice! {
    /// How urgent an item is; it sets the service-level targets.
    pub enum Priority {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

choice! {
    /// Where an item stands against its service levels.
    pub enum SlaState {
        OnTrack = "on_track",
        AtRisk = "at_risk",
        Breached = "breached",
        Met = "met",
    }
}

/// The share of a target's window left below which an item is `at_risk`: 1/5 = 20%.
pub const AT_RISK_DIVISOR: i32 = 5;

/// The promises that apply to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub first_response_minutes: i64,
    pub resolution_business_days: i64,
}

impl Priority {
    pub fn default_targets(self) -> Targets {
        let (first_response_minutes, resolution_business_days) = match self {
            Priority::Urgent => (4 * 60, 2),
            Priority::High => (8 * 60, 5),
            Priority::Normal => (24 * 60, 10),
            Priority::Low => (48 * 60, 15),
        };
        Targets {
            first_response_minutes,
            resolution_business_days,
        }
    }
}

/// The targets for an item of `priority` received on a channel with the given
/// targets (`None` where the channel sets none).
pub fn targets(
    priority: Priority,
    channel_first: Option<i64>,
    channel_days: Option<i64>,
) -> Targets {
    let base = priority.default_targets();
    let pick = |channel: Option<i64>, default: i64| match (priority, channel) {
        (_, None) => default,
        (Priority::High | Priority::Urgent, Some(c)) => c.min(default),
        (Priority::Low | Priority::Normal, Some(c)) => c,
    };
    Targets {
        first_response_minutes: pick(channel_first, base.first_response_minutes),
        resolution_business_days: pick(channel_days, base.resolution_business_days),
    }
}

/// The stored due times of an item (before any pause).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub first_response_due_at: DateTime<Utc>,
    /// From here on, less than 20% of the first-response window is left.
    pub first_response_risk_at: DateTime<Utc>,
    pub resolution_due_at: DateTime<Utc>,
    pub resolution_risk_at: DateTime<Utc>,
}

fn risk_at(start: DateTime<Utc>, due: DateTime<Utc>) -> DateTime<Utc> {
    let window = due - start;
    due - window / AT_RISK_DIVISOR
}

/// The due times for an item received at `received_at`, with `paused_micros`
/// already spent waiting on the customer.
pub fn clock(
    received_at: DateTime<Utc>,
    targets: Targets,
    calendar: &WorkCalendar,
    paused_micros: i64,
) -> Clock {
    let first_due = received_at + Duration::minutes(targets.first_response_minutes);
    let days = u32::try_from(targets.resolution_business_days).unwrap_or(u32::MAX);
    let resolution_due = calendar.add_business_days(received_at, days);
    let pause = Duration::microseconds(paused_micros);
    Clock {
        first_response_due_at: first_due,
        first_response_risk_at: risk_at(received_at, first_due),
        resolution_due_at: resolution_due + pause,
        resolution_risk_at: risk_at(received_at, resolution_due) + pause,
    }
}

/// Whole seconds between two moments, never negative.
pub fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn priorities_have_their_defaults() {
        assert_eq!(
            targets(Priority::Normal, None, None),
            Targets {
                first_response_minutes: 1440,
                resolution_business_days: 10
            }
        );
        assert_eq!(
            targets(Priority::Urgent, None, None),
            Targets {
                first_response_minutes: 240,
                resolution_business_days: 2
            }
        );
        assert_eq!(
            targets(Priority::High, None, None).resolution_business_days,
            5
        );
        assert_eq!(
            targets(Priority::Low, None, None).first_response_minutes,
            2880
        );
    }

    #[test]
    fn a_channel_target_replaces_normal_and_low_defaults() {
        let t = targets(Priority::Normal, Some(60), Some(3));
        assert_eq!(
            t,
            Targets {
                first_response_minutes: 60,
                resolution_business_days: 3
            }
        );
        // Looser than the default is allowed too: the channel promises what it promises.
        assert_eq!(
            targets(Priority::Low, Some(4320), None).first_response_minutes,
            4320
        );
        // Only one target set: the other keeps the priority's default.
        assert_eq!(
            targets(Priority::Normal, Some(60), None).resolution_business_days,
            10
        );
    }

    #[test]
    fn high_and_urgent_take_the_stricter_target() {
        assert_eq!(
            targets(Priority::Urgent, Some(60), Some(5)).first_response_minutes,
            60
        );
        assert_eq!(
            targets(Priority::Urgent, Some(60), Some(5)).resolution_business_days,
            2
        );
        assert_eq!(
            targets(Priority::High, Some(1440), Some(3)).first_response_minutes,
            480
        );
        assert_eq!(
            targets(Priority::High, Some(1440), Some(3)).resolution_business_days,
            3
        );
    }

    #[test]
    fn the_clock_counts_from_receipt() {
        let received = at("2026-11-06T10:00:00Z"); // a Friday
        let c = clock(
            received,
            targets(Priority::Normal, None, None),
            &WorkCalendar::default(),
            0,
        );
        assert_eq!(c.first_response_due_at, at("2026-11-07T10:00:00Z"));
        // 20% of 24 hours is 4 h 48 min.
        assert_eq!(c.first_response_risk_at, at("2026-11-07T05:12:00Z"));
        // Ten working days after Friday: Mon 9 … Fri 20: the end of Friday the 20th.
        assert_eq!(c.resolution_due_at, at("2026-11-21T00:00:00Z"));
        // The window is 14 days 14 hours (350 h); its last fifth (70 h) starts on the 18th at 02:00.
        assert_eq!(c.resolution_risk_at, at("2026-11-18T02:00:00Z"));
    }

    #[test]
    fn time_waiting_on_the_customer_moves_the_resolution_due_time() {
        let received = at("2026-11-06T10:00:00Z");
        let t = targets(Priority::Normal, None, None);
        let cal = WorkCalendar::default();
        let plain = clock(received, t, &cal, 0);
        let paused = clock(received, t, &cal, (3 * 86_400 + 5) * 1_000_000 + 7);
        assert_eq!(
            paused.resolution_due_at - plain.resolution_due_at,
            Duration::microseconds((3 * 86_400 + 5) * 1_000_000 + 7)
        );
        assert_eq!(
            paused.resolution_risk_at - plain.resolution_risk_at,
            Duration::microseconds((3 * 86_400 + 5) * 1_000_000 + 7)
        );
        assert_eq!(paused.first_response_due_at, plain.first_response_due_at);
    }

    #[test]
    fn seconds_are_whole_and_never_negative() {
        let t = at("2026-11-06T10:00:00Z");
        assert_eq!(seconds_between(t, t + Duration::milliseconds(2_900)), 2);
        assert_eq!(seconds_between(t, t - Duration::seconds(5)), 0);
    }
}
