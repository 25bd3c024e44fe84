//! What the customer metrics read instead of every transaction of a period
//! (migration 0020): per account, its transaction totals per UTC calendar
//! month, quarter and year, and its spells of activity. Both are kept in the
//! transaction of each purchase or refund, and built from the transactions
//! when missing (a new database, rows written by SQL) or, for the spells, when
//! the activity window changes.
//!
//! This file holds the rules (units, a period's pieces, spells); `store` keeps
//! the tables.

mod store;

pub use store::{add_transaction, build_if_needed, change_window};

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};

/// A calendar unit of the totals, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Month,
    Quarter,
    Year,
}

impl Unit {
    pub(crate) const LARGEST_FIRST: [Unit; 3] = [Unit::Year, Unit::Quarter, Unit::Month];

    pub fn name(self) -> &'static str {
        match self {
            Unit::Month => "month",
            Unit::Quarter => "quarter",
            Unit::Year => "year",
        }
    }

    /// The `period_key` of the unit that holds `t` (migration 0020).
    pub fn key(self, t: DateTime<Utc>) -> i64 {
        let (year, month0) = (i64::from(t.year()), i64::from(t.month0()));
        match self {
            Unit::Month => year * 12 + month0,
            Unit::Quarter => year * 4 + month0 / 3,
            Unit::Year => year,
        }
    }

    /// The instant unit `key` starts.
    pub fn start(self, key: i64) -> DateTime<Utc> {
        let months_per_unit = match self {
            Unit::Month => 1,
            Unit::Quarter => 3,
            Unit::Year => 12,
        };
        let months = key * months_per_unit;
        let (year, month0) = (months.div_euclid(12), months.rem_euclid(12));
        Utc.with_ymd_and_hms(year as i32, month0 as u32 + 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// A part of a period: whole units of the totals, or the transactions of a
/// stretch at either end, added or taken away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    Totals(Unit, i64),
    /// The transactions of `[from, to)`, added: the period starts or ends within a month.
    Transactions(DateTime<Utc>, DateTime<Utc>),
    /// The transactions of `[from, to)`, taken away: a whole month was counted that the period starts or
    /// ends within.
    LessTransactions(DateTime<Utc>, DateTime<Utc>),
}

/// `[from, to)` as whole UTC years, quarters and months and the transactions
/// of its ends: an end within a month either adds the transactions from the
/// month's edge inside the period, or counts the whole month and takes away
/// the transactions outside the period, whichever reads fewer days (a month
/// in a time zone a few hours from UTC reads those few hours).
pub fn pieces(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Piece> {
    if from >= to {
        return vec![];
    }
    let month_of = |t: DateTime<Utc>| Unit::Month.key(t);
    let (first_month, inner_to) = (
        Unit::Month.start(month_of(from)),
        Unit::Month.start(month_of(to)),
    );
    let after_first_month = Unit::Month.start(month_of(from) + 1);
    let inner_from = if first_month == from {
        from
    } else {
        after_first_month
    };
    let after_last_month = if inner_to == to {
        to
    } else {
        Unit::Month.start(month_of(to) + 1)
    };
    let mut pieces = vec![];
    let (whole_from, whole_to) = if inner_from > inner_to {
        // Within one month.
        if to - from <= (from - first_month) + (after_first_month - to) {
            return vec![Piece::Transactions(from, to)];
        }
        pieces.push(Piece::LessTransactions(first_month, from));
        pieces.push(Piece::LessTransactions(to, after_first_month));
        (first_month, after_first_month)
    } else {
        let whole_from = if inner_from - from <= from - first_month {
            pieces.push(Piece::Transactions(from, inner_from));
            inner_from
        } else {
            pieces.push(Piece::LessTransactions(first_month, from));
            first_month
        };
        let whole_to = if to - inner_to <= after_last_month - to {
            pieces.push(Piece::Transactions(inner_to, to));
            inner_to
        } else {
            pieces.push(Piece::LessTransactions(to, after_last_month));
            after_last_month
        };
        (whole_from, whole_to)
    };
    pieces.retain(|piece| match piece {
        Piece::Transactions(from, to) | Piece::LessTransactions(from, to) => from < to,
        Piece::Totals(..) => true,
    });
    // Both edges are month starts: the largest unit that starts at the cursor and fits.
    let mut cursor = whole_from;
    while cursor < whole_to {
        let whole = Unit::LARGEST_FIRST.into_iter().find_map(|unit| {
            let key = unit.key(cursor);
            (unit.start(key) == cursor && unit.start(key + 1) <= whole_to).then_some((unit, key))
        });
        let Some((unit, key)) = whole else {
            pieces.push(Piece::Transactions(cursor, whole_to));
            break;
        };
        pieces.push(Piece::Totals(unit, key));
        cursor = unit.start(key + 1);
    }
    pieces
}

/// A spell of activity: the account is active from `starts_at` until the
/// activity window after `last_purchase_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Spell {
    pub starts_at: DateTime<Utc>,
    pub last_purchase_at: DateTime<Utc>,
}

impl Spell {
    fn at(purchase: DateTime<Utc>) -> Spell {
        Spell {
            starts_at: purchase,
            last_purchase_at: purchase,
        }
    }

    /// Whether a purchase at `at` makes no gap with this spell: it is active
    /// over `[starts_at, last_purchase_at + window)`, the purchase over
    /// `[at, at + window)`.
    fn meets(&self, at: DateTime<Utc>, window: TimeDelta) -> bool {
        self.starts_at <= at + window && at <= self.last_purchase_at + window
    }

    fn take_in(&mut self, other: Spell) {
        self.starts_at = self.starts_at.min(other.starts_at);
        self.last_purchase_at = self.last_purchase_at.max(other.last_purchase_at);
    }
}

/// The spells of purchases at `times`, in time order.
pub fn spells(times: &[DateTime<Utc>], window: TimeDelta) -> Vec<Spell> {
    let mut spells: Vec<Spell> = vec![];
    for &at in times {
        match spells.last_mut() {
            Some(last) if last.meets(at, window) => last.take_in(Spell::at(at)),
            _ => spells.push(Spell::at(at)),
        }
    }
    spells
}

/// The one spell a purchase at `at` makes of itself and `meeting`, the spells
/// it makes no gap with.
pub fn merged(meeting: &[Spell], at: DateTime<Utc>) -> Spell {
    meeting.iter().fold(Spell::at(at), |mut spell, other| {
        spell.take_in(*other);
        spell
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn unit_keys_count_from_year_zero_and_start_where_the_unit_starts() {
        let t = at("2025-08-17T10:00:00Z");
        assert_eq!(Unit::Month.key(t), 2025 * 12 + 7);
        assert_eq!(Unit::Quarter.key(t), 2025 * 4 + 2);
        assert_eq!(Unit::Year.key(t), 2025);
        assert_eq!(
            Unit::Month.start(Unit::Month.key(t)),
            at("2025-08-01T00:00:00Z")
        );
        assert_eq!(
            Unit::Quarter.start(Unit::Quarter.key(t)),
            at("2025-07-01T00:00:00Z")
        );
        assert_eq!(Unit::Year.start(2026), at("2026-01-01T00:00:00Z"));
        assert_eq!(
            Unit::Month.start(2025 * 12 + 12),
            at("2026-01-01T00:00:00Z")
        );
    }

    #[test]
    fn a_period_is_cut_into_the_largest_whole_units_and_its_ends() {
        use Piece::*;
        assert_eq!(
            pieces(at("2025-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z")),
            [Totals(Unit::Year, 2025)]
        );
        // A quarter in Paris: two hours before the UTC quarter's start, and before its end.
        assert_eq!(
            pieces(at("2025-06-30T22:00:00Z"), at("2025-09-30T22:00:00Z")),
            [
                Transactions(at("2025-06-30T22:00:00Z"), at("2025-07-01T00:00:00Z")),
                LessTransactions(at("2025-09-30T22:00:00Z"), at("2025-10-01T00:00:00Z")),
                Totals(Unit::Quarter, 2025 * 4 + 2),
            ]
        );
        // Fourteen days of November taken away read fewer than sixteen added.
        assert_eq!(
            pieces(at("2024-11-15T00:00:00Z"), at("2026-05-01T00:00:00Z")),
            [
                LessTransactions(at("2024-11-01T00:00:00Z"), at("2024-11-15T00:00:00Z")),
                Totals(Unit::Month, 2024 * 12 + 10),
                Totals(Unit::Month, 2024 * 12 + 11),
                Totals(Unit::Year, 2025),
                Totals(Unit::Quarter, 2026 * 4),
                Totals(Unit::Month, 2026 * 12 + 3),
            ]
        );
        // Within one month: ten days read, or the month less three.
        assert_eq!(
            pieces(at("2025-03-10T00:00:00Z"), at("2025-03-20T00:00:00Z")),
            [Transactions(
                at("2025-03-10T00:00:00Z"),
                at("2025-03-20T00:00:00Z")
            )]
        );
        assert_eq!(
            pieces(at("2025-03-02T00:00:00Z"), at("2025-03-30T00:00:00Z")),
            [
                LessTransactions(at("2025-03-01T00:00:00Z"), at("2025-03-02T00:00:00Z")),
                LessTransactions(at("2025-03-30T00:00:00Z"), at("2025-04-01T00:00:00Z")),
                Totals(Unit::Month, 2025 * 12 + 2),
            ]
        );
        // From the middle of one month to the middle of the next.
        assert_eq!(
            pieces(at("2025-03-20T00:00:00Z"), at("2025-04-10T00:00:00Z")),
            [
                Transactions(at("2025-03-20T00:00:00Z"), at("2025-04-01T00:00:00Z")),
                Transactions(at("2025-04-01T00:00:00Z"), at("2025-04-10T00:00:00Z")),
            ]
        );
        assert_eq!(
            pieces(at("2025-03-10T00:00:00Z"), at("2025-03-10T00:00:00Z")),
            []
        );
    }

    #[test]
    fn a_purchase_within_the_window_of_the_last_one_continues_its_spell() {
        let window = TimeDelta::days(10);
        let times = [
            at("2025-01-01T00:00:00Z"),
            at("2025-01-05T00:00:00Z"),
            // Exactly the window after the last: no gap, the same spell.
            at("2025-01-15T00:00:00Z"),
            // A second more: a gap of a second, a new spell.
            at("2025-01-25T00:00:01Z"),
        ];
        assert_eq!(
            spells(&times, window),
            [
                Spell {
                    starts_at: times[0],
                    last_purchase_at: times[2]
                },
                Spell::at(times[3]),
            ]
        );
    }

    #[test]
    fn a_purchase_between_two_spells_joins_those_it_makes_no_gap_with() {
        let window = TimeDelta::days(10);
        let first = Spell {
            starts_at: at("2025-01-01T00:00:00Z"),
            last_purchase_at: at("2025-01-03T00:00:00Z"),
        };
        let second = Spell::at(at("2025-01-20T00:00:00Z"));
        let purchase = at("2025-01-12T00:00:00Z");
        assert!(first.meets(purchase, window) && second.meets(purchase, window));
        assert_eq!(
            merged(&[first, second], purchase),
            Spell {
                starts_at: first.starts_at,
                last_purchase_at: second.last_purchase_at
            }
        );
        assert!(!first.meets(at("2025-01-13T00:00:01Z"), window));
        assert!(!second.meets(at("2025-01-09T23:59:59Z"), window));
    }
}
