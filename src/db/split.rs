//! A period's aggregate run as two halves side by side on SQLite.
//!
//! SQLite runs one query on one core, and a year of metrics over a million
//! rows is CPU-bound there: the same figures over each half of the period,
//! computed on two read connections at once and added up, answer in about
//! half the time. PostgreSQL already spreads one query over parallel
//! workers, so it gets the whole period in one query. Only figures that are
//! sums (counts, totals, lists of values) can be split by time: a distinct
//! count or a per-account condition over the whole period cannot.

use std::future::Future;

use chrono::{DateTime, TimeDelta, Utc};

use super::Db;

/// Periods shorter than this are not split: their query is quick anyway.
const SPLIT_FROM: TimeDelta = TimeDelta::days(2);

impl Db {
    /// `[from, to)` as the consecutive periods to aggregate side by side and
    /// add up: its two halves on SQLite when it is long enough, else itself.
    fn periods_side_by_side(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.is_sqlite() {
            halves(from, to)
        } else {
            vec![(from, to)]
        }
    }
}

impl Db {
    /// `query` run over each of [`Db::periods_side_by_side`] at once: the rows of each part, in order.
    pub async fn parts_side_by_side<T, E, Query, Rows>(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        query: Query,
    ) -> Result<Vec<Vec<T>>, E>
    where
        Query: Fn(DateTime<Utc>, DateTime<Utc>) -> Rows,
        Rows: Future<Output = Result<Vec<T>, E>>,
    {
        futures_util::future::try_join_all(
            self.periods_side_by_side(from, to)
                .into_iter()
                .map(|(from, to)| query(from, to)),
        )
        .await
    }
}

/// `[from, to)` as its two halves, or whole when shorter than [`SPLIT_FROM`].
fn halves(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    if to - from < SPLIT_FROM {
        return vec![(from, to)];
    }
    let middle = from + (to - from) / 2;
    vec![(from, middle), (middle, to)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_long_period_is_cut_in_two_halves_that_cover_it_exactly() {
        let (from, to) = (at("2025-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"));
        assert_eq!(
            halves(from, to),
            vec![
                (from, at("2025-07-02T12:00:00Z")),
                (at("2025-07-02T12:00:00Z"), to)
            ]
        );
        let short = at("2025-01-02T00:00:00Z");
        assert_eq!(halves(from, short), vec![(from, short)]);
    }
}
