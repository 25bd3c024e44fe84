//! Calendar intervals of a period, and the formulas of the customer figures
//! that are arithmetic on counts.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use crate::{feedback::calendar::WorkCalendar, http::ApiError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Month,
    Quarter,
}

impl Interval {
    pub fn parse(text: Option<&str>) -> Result<Option<Interval>, ApiError> {
        match text {
            None | Some("") => Ok(None),
            Some("month") => Ok(Some(Interval::Month)),
            Some("quarter") => Ok(Some(Interval::Quarter)),
            Some(other) => Err(ApiError::bad_request(format!(
                "interval={other:?} is not valid: use month or quarter."
            ))),
        }
    }

    fn months(self) -> u32 {
        match self {
            Interval::Month => 1,
            Interval::Quarter => 3,
        }
    }

    /// The first day of the month or quarter that holds `date`.
    fn start_of(self, date: NaiveDate) -> NaiveDate {
        let month0 = date.month0() - date.month0() % self.months();
        NaiveDate::from_ymd_opt(date.year(), month0 + 1, 1).unwrap_or(date)
    }

    /// `2026-07` or `2026-Q3`.
    pub fn label(self, date: NaiveDate) -> String {
        match self {
            Interval::Month => format!("{:04}-{:02}", date.year(), date.month()),
            Interval::Quarter => format!("{:04}-Q{}", date.year(), date.month0() / 3 + 1),
        }
    }
}

/// One calendar month or quarter of a period (the first and last cut to it).
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    pub label: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// `[from, to)` cut at the starts of the months or quarters of the calendar's
/// time zone (local midnight on the 1st).
pub fn slices(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    interval: Interval,
    calendar: &WorkCalendar,
) -> Vec<Slice> {
    let mut out = vec![];
    let mut first_day = interval.start_of(calendar.local_date(from));
    let mut start = from;
    while start < to {
        let Some(next_day) = first_day.checked_add_months(Months::new(interval.months())) else {
            break;
        };
        let end = calendar.start_of(next_day).min(to);
        if end > start {
            out.push(Slice {
                label: interval.label(first_day),
                from: start,
                to: end,
            });
        }
        start = end.max(start);
        first_day = next_day;
    }
    out
}

/// `part / whole`, rounded to four decimals; `None` when `whole` is 0.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0)
}

/// Customer lifetime value: `arpu × (365 / days) × margin / annual churn`,
/// where annual churn = `1 − (1 − churn)^(365 / days)`, at least 0.1 (a
/// lifetime of at most ten years).
pub fn clv(arpu: Option<f64>, days: f64, margin: f64, churn: Option<f64>) -> Option<f64> {
    let (arpu, churn) = (arpu?, churn?);
    let periods_a_year = 365.0 / days;
    let annual_churn = (1.0 - (1.0 - churn).powf(periods_a_year)).max(0.1);
    Some((arpu * periods_a_year * margin / annual_churn * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedback::calendar::parse_time_zone;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn quarters_follow_the_calendars_time_zone() {
        let calendar = WorkCalendar {
            tz: parse_time_zone("Asia/Shanghai").unwrap(),
            ..WorkCalendar::default()
        };
        // Shanghai is UTC+8: its 1 April starts at 16:00 UTC on 31 March.
        let cut = slices(
            at("2025-12-31T16:00:00Z"),
            at("2026-07-15T00:00:00Z"),
            Interval::Quarter,
            &calendar,
        );
        let got: Vec<(&str, String, String)> = cut
            .iter()
            .map(|s| (s.label.as_str(), s.from.to_rfc3339(), s.to.to_rfc3339()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "2026-Q1",
                    "2025-12-31T16:00:00+00:00".into(),
                    "2026-03-31T16:00:00+00:00".into()
                ),
                (
                    "2026-Q2",
                    "2026-03-31T16:00:00+00:00".into(),
                    "2026-06-30T16:00:00+00:00".into()
                ),
                (
                    "2026-Q3",
                    "2026-06-30T16:00:00+00:00".into(),
                    "2026-07-15T00:00:00+00:00".into()
                ),
            ]
        );
    }

    #[test]
    fn months_cut_a_period_that_starts_mid_month() {
        let cut = slices(
            at("2026-01-15T00:00:00Z"),
            at("2026-03-01T00:00:00Z"),
            Interval::Month,
            &WorkCalendar::default(),
        );
        let labels: Vec<&str> = cut.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["2026-01", "2026-02"]);
        assert_eq!(cut[0].from, at("2026-01-15T00:00:00Z"));
        assert_eq!(cut[1].to, at("2026-03-01T00:00:00Z"));
    }

    #[test]
    fn clv_annualises_churn_with_a_floor() {
        // A quarter (91.25 days: four a year), ARPU 1,000, margin 0.5, quarterly churn 0.2:
        // annual churn 1 − 0.8⁴ = 0.5904; CLV = 1,000 × 4 × 0.5 / 0.5904 = 3,387.53.
        assert_eq!(clv(Some(1000.0), 91.25, 0.5, Some(0.2)), Some(3387.53));
        // No churn: the floor of 0.1 caps the lifetime at ten years: 1,000 × 4 × 0.5 / 0.1.
        assert_eq!(clv(Some(1000.0), 91.25, 0.5, Some(0.0)), Some(20000.0));
        assert_eq!(clv(Some(1000.0), 91.25, 0.5, None), None);
        assert_eq!(clv(None, 91.25, 0.5, Some(0.2)), None);
        assert_eq!(rate(1, 3), Some(0.3333));
        assert_eq!(rate(1, 0), None);
    }
}
