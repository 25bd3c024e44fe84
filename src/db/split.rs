//! A period's aggregate run as two halves side by side.
//!
//! A year of metrics over a million rows is CPU-bound, and one query runs
//! on one core unless PostgreSQL gives it parallel workers: SQLite never
//! does, and PostgreSQL does not for some aggregates (`string_agg` before
//! version 16). The same figures over each half of the period, computed on
//! two connections at once and added up, then answer in about half the time.
//! Only figures that are sums (counts, totals, lists of values) can be split
//! by time: a distinct count or a per-account condition over the whole
//! period cannot.

use std::future::Future;

use chrono::{DateTime, TimeDelta, Utc};

use super::Db;

/// Periods shorter than this are not split: their query is quick anyway.
const SPLIT_FROM: TimeDelta = TimeDelta::days(2);

/// Whether PostgreSQL runs a query with parallel workers by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnPostgres {
    /// It does: the query runs whole there (split, it would only compete with its own workers).
    Parallel,
    /// It does not (the query reads `string_agg`, say): split it there too.
    Serial,
}

impl Db {
    /// `query` run at once over each half of `[from, to)` (on SQLite, and on PostgreSQL for a
    /// [`OnPostgres::Serial`] query; a period shorter than two days stays whole): the rows of each part,
    /// in order.
    pub async fn parts_side_by_side<T, E, Query, Rows>(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        on_postgres: OnPostgres,
        query: Query,
    ) -> Result<Vec<Vec<T>>, E>
    where
        Query: Fn(DateTime<Utc>, DateTime<Utc>) -> Rows,
        Rows: Future<Output = Result<Vec<T>, E>>,
    {
        let parts = if self.is_sqlite() || on_postgres == OnPostgres::Serial {
            halves(from, to)
        } else {
            vec![(from, to)]
        };
        futures_util::future::try_join_all(parts.into_iter().map(|(from, to)| query(from, to)))
            .await
    }
}

/// `rows` added up per key (`add` folds a row into the first of its key), in key order: the rows the parts
/// of a period gave one group become one.
pub fn add_up_by<K: Ord, R>(
    rows: impl IntoIterator<Item = R>,
    key_of: impl Fn(&R) -> K,
    add: impl Fn(&mut R, &R),
) -> Vec<R> {
    let mut groups: std::collections::BTreeMap<K, R> = std::collections::BTreeMap::new();
    for row in rows {
        match groups.entry(key_of(&row)) {
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(row);
            }
            std::collections::btree_map::Entry::Occupied(mut entry) => add(entry.get_mut(), &row),
        }
    }
    groups.into_values().collect()
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

    #[test]
    fn rows_of_one_key_are_added_into_one_in_key_order() {
        let rows = vec![("b", 1), ("a", 2), ("b", 3)];
        assert_eq!(
            add_up_by(rows, |row| row.0, |sum, row| sum.1 += row.1),
            vec![("a", 2), ("b", 4)]
        );
    }
}
