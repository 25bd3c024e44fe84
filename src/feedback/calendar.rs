//! The working calendar service levels count business days in, as plain
//! functions: which local dates are working days, and where the N-th working
//! day after a moment ends.
//!
//! Business days count whole days: the calendar has no working hours. A
//! resolution target of N business days ends at local midnight after the N-th
//! working day that follows the day the item was received (the day of receipt
//! never counts, whatever the hour). A date is a working day when it is listed
//! as an extra working day (a make-up day on a weekend), else when it is not a
//! public holiday and falls on a working weekday.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// A calendar, parsed and ready to count with.
#[derive(Clone, Debug)]
pub struct WorkCalendar {
    pub tz: Tz,
    /// Indexed by `Weekday::num_days_from_monday()`.
    pub working_weekdays: [bool; 7],
    pub holidays: BTreeSet<NaiveDate>,
    pub extra_working_days: BTreeSet<NaiveDate>,
}

/// The longest stretch searched for working days: a calendar always has a
/// working weekday (see `CalendarIn`), so this is only a guard.
const MAX_SEARCH_DAYS: u64 = 366 * 50;

impl Default for WorkCalendar {
    /// Monday to Friday in UTC, no holidays.
    fn default() -> Self {
        Self {
            tz: Tz::UTC,
            working_weekdays: [true, true, true, true, true, false, false],
            holidays: BTreeSet::new(),
            extra_working_days: BTreeSet::new(),
        }
    }
}

impl WorkCalendar {
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.extra_working_days.contains(&date) {
            return true;
        }
        !self.holidays.contains(&date)
            && self.working_weekdays[date.weekday().num_days_from_monday() as usize]
    }

    /// The local date of `at` in the calendar's time zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The first instant of `date` in the calendar's time zone, in UTC. Where a
    /// daylight-saving change skips local midnight, the day starts at the first
    /// local time that exists.
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        for minutes in (0..=24 * 60).step_by(15) {
            let local = midnight + chrono::Duration::minutes(minutes);
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(t) => return t.with_timezone(&Utc),
                LocalResult::Ambiguous(earliest, _) => return earliest.with_timezone(&Utc),
                LocalResult::None => continue,
            }
        }
        // No zone skips a whole day; fall back to UTC midnight.
        Utc.from_utc_datetime(&midnight)
    }

    /// The end (local midnight) of the `days`-th working day after the local
    /// date of `from`.
    pub fn add_business_days(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let mut date = self.local_date(from);
        let mut left = days;
        let mut searched = 0;
        while left > 0 && searched < MAX_SEARCH_DAYS {
            date = date + Days::new(1);
            searched += 1;
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        self.start_of(date + Days::new(1))
    }
}

/// Weekday names as the API writes them.
pub const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

pub fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAYS[day.num_days_from_monday() as usize].0
}

pub fn parse_weekday(text: &str) -> Option<Weekday> {
    WEEKDAYS
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, day)| *day)
}

/// An IANA time zone the tz database knows, e.g. `Asia/Shanghai`.
pub fn parse_time_zone(text: &str) -> Option<Tz> {
    text.parse::<Tz>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn shanghai() -> WorkCalendar {
        WorkCalendar {
            tz: parse_time_zone("Asia/Shanghai").unwrap(),
            ..WorkCalendar::default()
        }
    }

    #[test]
    fn weekends_are_skipped() {
        let cal = WorkCalendar::default();
        // Friday 2026-11-06 10:00 UTC + 1 business day: Monday ends at Tuesday 00:00.
        assert_eq!(
            cal.add_business_days(at("2026-11-06T10:00:00Z"), 1),
            at("2026-11-10T00:00:00Z")
        );
        // Monday + 10 business days: two full weeks later, the end of Monday the 23rd.
        assert_eq!(
            cal.add_business_days(at("2026-11-09T08:00:00Z"), 10),
            at("2026-11-24T00:00:00Z")
        );
    }

    #[test]
    fn an_item_received_on_a_weekend_starts_counting_on_monday() {
        let cal = WorkCalendar::default();
        assert_eq!(
            cal.add_business_days(at("2026-11-07T15:00:00Z"), 1),
            at("2026-11-10T00:00:00Z")
        );
        assert_eq!(
            cal.add_business_days(at("2026-11-08T23:59:00Z"), 2),
            at("2026-11-11T00:00:00Z")
        );
    }

    #[test]
    fn holidays_are_skipped() {
        let mut cal = WorkCalendar::default();
        cal.holidays.insert(date("2026-11-10"));
        // Monday + 1: Tuesday is a holiday, so Wednesday.
        assert_eq!(
            cal.add_business_days(at("2026-11-09T08:00:00Z"), 1),
            at("2026-11-12T00:00:00Z")
        );
        assert!(!cal.is_working_day(date("2026-11-10")));
    }

    #[test]
    fn make_up_working_days_count_even_on_weekends() {
        let mut cal = WorkCalendar::default();
        cal.extra_working_days.insert(date("2026-11-07")); // a Saturday
        assert_eq!(
            cal.add_business_days(at("2026-11-06T10:00:00Z"), 1),
            at("2026-11-08T00:00:00Z")
        );
        // An extra working day wins over a holiday on the same date.
        cal.holidays.insert(date("2026-11-07"));
        assert!(cal.is_working_day(date("2026-11-07")));
    }

    #[test]
    fn golden_week_with_make_up_days() {
        // China 2026 (illustrative): 1–7 October off, Sunday 27 Sept and Saturday 10 Oct worked.
        let mut cal = shanghai();
        for d in 1..=7 {
            cal.holidays
                .insert(NaiveDate::from_ymd_opt(2026, 10, d).unwrap());
        }
        cal.extra_working_days.insert(date("2026-09-27"));
        cal.extra_working_days.insert(date("2026-10-10"));
        // Received Wednesday 30 Sept 10:00 Beijing time (02:00 UTC). Working days after it:
        // Thu 8 Oct (1), Fri 9 Oct (2), Sat 10 Oct (3, make-up day), Mon 12 Oct (4).
        let due = cal.add_business_days(at("2026-09-30T02:00:00Z"), 4);
        // End of 12 Oct in Beijing is 13 Oct 00:00 +08:00.
        assert_eq!(due, at("2026-10-12T16:00:00Z"));
    }

    #[test]
    fn the_day_boundary_is_local() {
        let cal = shanghai();
        // 2026-11-06T17:00Z is already Saturday 01:00 in Shanghai: counting starts on Monday.
        assert_eq!(
            cal.add_business_days(at("2026-11-06T17:00:00Z"), 1),
            at("2026-11-09T16:00:00Z")
        );
    }

    #[test]
    fn custom_working_weekdays() {
        // Sunday to Thursday.
        let cal = WorkCalendar {
            working_weekdays: [true, true, true, true, false, false, true],
            ..WorkCalendar::default()
        };
        // Thursday + 1 → Sunday, which ends at Monday 00:00.
        assert_eq!(
            cal.add_business_days(at("2026-11-05T09:00:00Z"), 1),
            at("2026-11-09T00:00:00Z")
        );
    }

    #[test]
    fn days_start_at_local_midnight_across_daylight_saving() {
        let cal = WorkCalendar {
            tz: parse_time_zone("Europe/Berlin").unwrap(),
            ..WorkCalendar::default()
        };
        // Summer time ends on 25 Oct 2026: Monday the 26th starts at 23:00 UTC on the 25th.
        assert_eq!(cal.start_of(date("2026-10-26")), at("2026-10-25T23:00:00Z"));
        assert_eq!(cal.start_of(date("2026-10-24")), at("2026-10-23T22:00:00Z"));
        // A zone whose clocks skip midnight: the day starts at the first existing minute.
        let havana = WorkCalendar {
            tz: parse_time_zone("America/Havana").unwrap(),
            ..WorkCalendar::default()
        };
        assert_eq!(
            havana.start_of(date("2026-03-08")),
            at("2026-03-08T05:00:00Z")
        );
    }

    #[test]
    fn names_parse() {
        assert_eq!(parse_weekday("sat"), Some(Weekday::Sat));
        assert_eq!(parse_weekday("Saturday"), None);
        assert_eq!(weekday_name(Weekday::Sun), "sun");
        assert!(parse_time_zone("Asia/Shanghai").is_some());
        assert!(parse_time_zone("Mars/Olympus").is_none());
    }
}
