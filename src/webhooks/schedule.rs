//! When a failed delivery is tried again.
//!
//! The first attempt is made as soon as the event is dispatched; after a
//! failure (any status outside 2xx, a timeout, a refused connection) the next
//! attempts follow [`RETRY_DELAYS`], each delay varied by up to ±20% so that
//! receivers coming back from an outage are not hit by every retry at once.
//! In all about three days (2.9 days without the jitter); after the last
//! failure the delivery is `failed`.

use chrono::TimeDelta;
use rand::Rng;

/// The waits before attempts 2, 3, …: 5 s, 1 min, 5 min, 30 min, 1 h, 3 h,
/// 6 h, 12 h, 24 h, 24 h.
pub const RETRY_DELAYS: [i64; 10] = [
    5, 60, 300, 1_800, 3_600, 10_800, 21_600, 43_200, 86_400, 86_400,
];

/// Attempts in all: the first and one per delay.
pub const MAX_ATTEMPTS: i64 = RETRY_DELAYS.len() as i64 + 1;

/// The wait after the `attempts`-th failed attempt, with jitter (`jitter` in
/// −1.0 to 1.0, scaled to ±20%); `None` when the schedule is over.
pub fn delay_after(attempts: i64, jitter: f64) -> Option<TimeDelta> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let base = *RETRY_DELAYS.get(index)? as f64;
    let millis = base * 1_000.0 * (1.0 + 0.2 * jitter.clamp(-1.0, 1.0));
    Some(TimeDelta::milliseconds(millis as i64))
}

/// A random jitter for [`delay_after`].
pub fn jitter() -> f64 {
    rand::rng().random_range(-1.0..=1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_retry_comes_within_ten_seconds() {
        for jitter in [-1.0, 0.0, 1.0] {
            let first = delay_after(1, jitter).unwrap();
            assert!(first >= TimeDelta::seconds(4) && first <= TimeDelta::seconds(6));
        }
    }

    #[test]
    fn the_schedule_grows_and_lasts_about_three_days() {
        let total: i64 = RETRY_DELAYS.iter().sum();
        assert!((2.5..3.5).contains(&(total as f64 / 86_400.0)));
        assert!(RETRY_DELAYS.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(delay_after(10, 0.0), Some(TimeDelta::days(1)));
        assert_eq!(delay_after(MAX_ATTEMPTS, 0.0), None);
        assert_eq!(delay_after(0, 0.0), None);
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        let hour = delay_after(5, 1.0).unwrap();
        assert_eq!(hour, TimeDelta::seconds(4_320));
        assert_eq!(delay_after(5, -5.0).unwrap(), TimeDelta::seconds(2_880));
    }
}
