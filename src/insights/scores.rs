//! The 1–5 RFM scores: quintiles by rank among the customers of one kind
//! with a purchase in the activity window.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The thresholds of the 1–5 scores among the customers with a purchase in
/// the window: with `v` sorted ascending (n values), `cuts[s − 1]` is
/// `v[ceil(s × n / 5) − 1]`, so `score(x) = 1 + #{s : x > cuts[s − 1]}` equals
/// `1 + floor(5 × #{values < x} / n)` for every x in the population, and
/// scores a customer the job recomputes alone as if it had been there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cuts(Vec<i64>);

impl Cuts {
    pub fn of(mut values: Vec<i64>) -> Cuts {
        values.sort_unstable();
        let n = values.len();
        if n == 0 {
            return Cuts(vec![]);
        }
        Cuts((1..=4).map(|s| values[(s * n).div_ceil(5) - 1]).collect())
    }

    pub fn score(&self, value: i64) -> u8 {
        1 + self.0.iter().filter(|cut| value > **cut).count() as u8
    }
}

/// The cuts of recency (as minus the days, so that higher is better),
/// frequency and monetary value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreCuts {
    pub recency: Cuts,
    pub frequency: Cuts,
    pub monetary: Cuts,
}

impl ScoreCuts {
    /// From every customer of one kind with a purchase in the window.
    pub fn of(population: &[super::figures::Ranked], now: DateTime<Utc>) -> ScoreCuts {
        ScoreCuts {
            recency: Cuts::of(
                population
                    .iter()
                    .map(|r| -days_since(r.last_purchase_at, now).unwrap_or(0))
                    .collect(),
            ),
            frequency: Cuts::of(population.iter().map(|r| r.frequency).collect()),
            monetary: Cuts::of(population.iter().map(|r| r.monetary).collect()),
        }
    }
}

/// Whole days since `at`, 0 for a moment still ahead.
pub(super) fn days_since(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    at.map(|at| (now - at).num_days().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_quintiles_by_rank_with_ties_sharing_a_score() {
        let cuts = Cuts::of(vec![5, 1, 4, 2, 3]);
        let scores: Vec<u8> = [1, 2, 3, 4, 5].iter().map(|v| cuts.score(*v)).collect();
        assert_eq!(scores, [1, 2, 3, 4, 5]);
        // 1 + floor(5 × (values below) / n): four 1s have none below (1), the 5 has four (5).
        let cuts = Cuts::of(vec![1, 1, 1, 1, 5]);
        assert_eq!((cuts.score(1), cuts.score(5)), (1, 5));
        // Ten values: two per score.
        let cuts = Cuts::of((1..=10).collect());
        let scores: Vec<u8> = (1..=10).map(|v| cuts.score(v)).collect();
        assert_eq!(scores, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        // Alone, or with no one: the lowest score.
        assert_eq!(Cuts::of(vec![7]).score(7), 1);
        assert_eq!(Cuts::of(vec![]).score(7), 1);
        // A value the population did not have scores as if it had been there: 3 values below 6 of 4 → 1 + 15/4.
        assert_eq!(Cuts::of(vec![1, 2, 5, 9]).score(6), 4);
    }
}
