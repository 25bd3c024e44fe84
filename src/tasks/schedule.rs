//! When a task falls due, and when its next occurrence does: plain
//! functions on dates in the task's time zone.

use chrono::{DateTime, Days, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{choice, feedback::calendar::WorkCalendar};

choice! {
    /// The unit of a recurrence.
    pub enum RepeatUnit {
        Day = "day",
        Week = "week",
        Month = "month",
        Quarter = "quarter",
        Year = "year",
    }
}

/// A recurrence: every `every` `unit`s, on the calendar date in the task's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"every": 1, "unit": "quarter"}))]
pub struct Repeat {
    /// 1–1000.
    pub every: i64,
    pub unit: RepeatUnit,
}

/// The first instant of `date` in `tz`.
pub fn start_of(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    WorkCalendar {
        tz,
        ..WorkCalendar::default()
    }
    .start_of(date)
}

/// The deadline of a task due on a local date: the end of that day.
pub fn end_of(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    start_of(tz, date.succ_opt().unwrap_or(date))
}

/// The calendar date `repeat` after `date`; a day of the month that the
/// target month lacks becomes its last day (31 January → 28 or 29 February).
pub fn next_date(date: NaiveDate, repeat: Repeat) -> Option<NaiveDate> {
    nth_date(date, repeat, 1)
}

/// The date of the `n`-th occurrence of a series that starts on `anchor`:
/// counted from the anchor, so a series on the 31st comes back to the 31st
/// after a short month.
pub fn nth_date(anchor: NaiveDate, repeat: Repeat, n: i64) -> Option<NaiveDate> {
    let date = anchor;
    let n = u32::try_from(repeat.every.checked_mul(n)?).ok()?;
    match repeat.unit {
        RepeatUnit::Day => date.checked_add_days(Days::new(n.into())),
        RepeatUnit::Week => date.checked_add_days(Days::new(u64::from(n) * 7)),
        RepeatUnit::Month => date.checked_add_months(Months::new(n)),
        RepeatUnit::Quarter => date.checked_add_months(Months::new(n.checked_mul(3)?)),
        RepeatUnit::Year => date.checked_add_months(Months::new(n.checked_mul(12)?)),
    }
}

/// The deadline of the `n`-th occurrence of a series of instants that starts
/// at `anchor` (local): the same local time on its date (the earliest instant
/// of it around a daylight-saving change).
pub fn nth_instant(tz: Tz, anchor: NaiveDateTime, repeat: Repeat, n: i64) -> Option<DateTime<Utc>> {
    let date = nth_date(anchor.date(), repeat, n)?;
    let next = date.and_time(anchor.time());
    tz.from_local_datetime(&next)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(next + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn every(n: i64, unit: RepeatUnit) -> Repeat {
        Repeat { every: n, unit }
    }

    #[test]
    fn month_ends_clamp() {
        assert_eq!(
            next_date(date("2027-01-31"), every(1, RepeatUnit::Month)),
            Some(date("2027-02-28"))
        );
        assert_eq!(
            next_date(date("2028-01-31"), every(1, RepeatUnit::Month)),
            Some(date("2028-02-29"))
        );
        assert_eq!(
            next_date(date("2027-11-30"), every(1, RepeatUnit::Quarter)),
            Some(date("2028-02-29"))
        );
        assert_eq!(
            next_date(date("2028-02-29"), every(1, RepeatUnit::Year)),
            Some(date("2029-02-28"))
        );
        assert_eq!(
            next_date(date("2027-03-01"), every(2, RepeatUnit::Week)),
            Some(date("2027-03-15"))
        );
        assert_eq!(
            next_date(date("2027-03-01"), every(3, RepeatUnit::Day)),
            Some(date("2027-03-04"))
        );
    }

    #[test]
    fn a_series_counts_from_its_anchor_so_month_ends_do_not_drift() {
        let quarterly = every(1, RepeatUnit::Quarter);
        assert_eq!(
            nth_date(date("2026-09-30"), quarterly, 1),
            Some(date("2026-12-30"))
        );
        assert_eq!(
            nth_date(date("2026-03-31"), quarterly, 1),
            Some(date("2026-06-30"))
        );
        assert_eq!(
            nth_date(date("2026-03-31"), quarterly, 3),
            Some(date("2026-12-31"))
        );
        assert_eq!(
            nth_date(date("2027-01-31"), every(1, RepeatUnit::Month), 2),
            Some(date("2027-03-31"))
        );
    }

    #[test]
    fn a_local_date_is_due_at_the_end_of_that_day_in_its_zone() {
        let shanghai: Tz = "Asia/Shanghai".parse().unwrap();
        assert_eq!(
            end_of(shanghai, date("2027-03-01")),
            "2027-03-01T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn an_instant_keeps_its_local_time_across_daylight_saving() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 09:00 in Berlin in winter (UTC+1) is 09:00 in summer (UTC+2).
        let anchor = "2027-03-15T09:00:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(
            nth_instant(berlin, anchor, every(1, RepeatUnit::Month), 1),
            Some("2027-04-15T07:00:00Z".parse().unwrap())
        );
    }
}
