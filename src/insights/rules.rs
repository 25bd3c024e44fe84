//! The rules that turn one customer's figures into insights: scores, status,
//! segment, churn risk and value tier. Plain functions; the SQL that gathers
//! the figures is in [`super::figures`].

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::*;
use super::settings::InsightSettings;
use crate::domain::stages::ValueTier;

/// What the database knows of one customer (see [`super::figures`]).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Figures {
    pub id: Uuid,
    pub first_purchase_at: Option<DateTime<Utc>>,
    pub last_purchase_at: Option<DateTime<Utc>>,
    /// Purchases in (now − W, now].
    pub frequency: i64,
    /// Purchases − refunds in (now − W, now], in the base currency.
    pub monetary: i64,
    pub latest_nps: Option<i64>,
    pub latest_csat: Option<i64>,
    pub nps_responses: i64,
    pub promoters: i64,
    pub detractors: i64,
    pub open_complaints: i64,
    pub breached_complaints: i64,
    pub overdue_complaints: i64,
    /// The account's value tier when set by hand (always `None` for contacts).
    pub manual_value_tier: Option<String>,
}

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
fn days_since(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    at.map(|at| (now - at).num_days().max(0))
}

fn recency_days(f: &Figures, now: DateTime<Utc>) -> Option<i64> {
    days_since(f.last_purchase_at, now)
}

pub fn nps_class(score: i64) -> NpsClass {
    match score {
        9.. => NpsClass::Promoter,
        7..=8 => NpsClass::Passive,
        _ => NpsClass::Detractor,
    }
}

pub fn csat_class(score: i64) -> CsatClass {
    match score {
        4.. => CsatClass::Satisfied,
        3 => CsatClass::Neutral,
        _ => CsatClass::Dissatisfied,
    }
}

fn reason(code: &str, message: String) -> Reason {
    Reason {
        code: code.into(),
        message,
    }
}

/// The loyalty status and why (see [`LoyaltyStatus`]).
pub fn loyalty_status(
    f: &Figures,
    s: &InsightSettings,
    now: DateTime<Utc>,
) -> (LoyaltyStatus, Vec<Reason>) {
    let w = s.activity_window_days;
    let Some(first) = f.first_purchase_at else {
        return (
            LoyaltyStatus::Prospect,
            vec![reason("never_purchased", "no purchase recorded".into())],
        );
    };
    let since_first = (now - first).num_days().max(0);
    if now - first < TimeDelta::days(s.new_customer_days) {
        return (
            LoyaltyStatus::New,
            vec![reason(
                "first_purchase_recent",
                format!(
                    "first purchase {since_first} days ago (new for {} days)",
                    s.new_customer_days
                ),
            )],
        );
    }
    if f.frequency == 0 {
        return (
            LoyaltyStatus::Churned,
            vec![reason(
                "no_purchase_in_window",
                format!("no purchase in the last {w} days"),
            )],
        );
    }
    let mut risks = vec![];
    if let Some(last) = f.last_purchase_at
        && now - last >= TimeDelta::days(s.at_risk_after_days)
    {
        risks.push(reason(
            "no_recent_purchase",
            format!(
                "last purchase {} days ago (at risk after {})",
                (now - last).num_days(),
                s.at_risk_after_days
            ),
        ));
    }
    if let Some(nps) = f.latest_nps.filter(|n| *n <= 6) {
        risks.push(reason(
            "detractor",
            format!("latest NPS answer {nps} (6 or less)"),
        ));
    }
    if f.overdue_complaints > 0 {
        risks.push(reason(
            "complaint_overdue",
            format!(
                "{} open complaint(s) past their resolution due time",
                f.overdue_complaints
            ),
        ));
    }
    if !risks.is_empty() {
        return (LoyaltyStatus::AtRisk, risks);
    }
    if f.frequency >= 2 {
        return (
            LoyaltyStatus::Loyal,
            vec![reason(
                "repeat_purchases",
                format!("{} purchases in the last {w} days", f.frequency),
            )],
        );
    }
    (
        LoyaltyStatus::Active,
        vec![reason(
            "purchased_in_window",
            format!("1 purchase in the last {w} days"),
        )],
    )
}

/// The RFM segment (see [`RfmSegment`]).
pub fn rfm_segment(status: LoyaltyStatus, scores: Option<(u8, u8, u8)>) -> Option<RfmSegment> {
    match (status, scores) {
        (LoyaltyStatus::Prospect, _) => None,
        (LoyaltyStatus::New, _) => Some(RfmSegment::New),
        (_, None) => Some(RfmSegment::Lost),
        (_, Some((r, f, m))) => Some(if r >= 4 && f >= 4 && m >= 4 {
            RfmSegment::Champions
        } else if f >= 4 && r >= 3 {
            RfmSegment::Loyal
        } else if r <= 2 && (f >= 3 || m >= 3) {
            RfmSegment::AtRisk
        } else if r <= 2 {
            RfmSegment::Hibernating
        } else {
            RfmSegment::PotentialLoyalist
        }),
    }
}

/// The churn risk and its parts (see [`Insights`]).
pub fn churn_risk(
    status: LoyaltyStatus,
    f: &Figures,
    s: &InsightSettings,
    now: DateTime<Utc>,
) -> (Option<i64>, Vec<RiskFactor>) {
    let (start, width) = match status {
        LoyaltyStatus::Prospect => return (None, vec![]),
        LoyaltyStatus::Churned => {
            let all = RiskFactor {
                factor: "status".into(),
                weight: None,
                value: None,
                points: 100.0,
            };
            return (Some(100), vec![all]);
        }
        LoyaltyStatus::Loyal => (0.0, 25.0),
        LoyaltyStatus::Active | LoyaltyStatus::New => (25.0, 25.0),
        LoyaltyStatus::AtRisk => (50.0, 40.0),
    };
    let recency = recency_days(f, now)
        .map(|d| (d as f64 / s.at_risk_after_days as f64).min(1.0))
        .unwrap_or(1.0);
    let nps = match f.latest_nps.map(nps_class) {
        Some(NpsClass::Detractor) => 1.0,
        Some(NpsClass::Passive) => 0.5,
        Some(NpsClass::Promoter) => 0.0,
        None => 0.25,
    };
    let csat = match f.latest_csat.map(csat_class) {
        Some(CsatClass::Dissatisfied) => 1.0,
        Some(CsatClass::Neutral) => 0.5,
        Some(CsatClass::Satisfied) => 0.0,
        None => 0.25,
    };
    let complaints = if f.overdue_complaints > 0 {
        1.0
    } else if f.open_complaints > 0 {
        0.5
    } else {
        0.0
    };
    let mut factors = vec![RiskFactor {
        factor: "status".into(),
        weight: None,
        value: None,
        points: start,
    }];
    let round2 = |v: f64| (v * 100.0).round() / 100.0;
    for (factor, weight, value) in [
        ("recency", 0.4, recency),
        ("nps", 0.25, nps),
        ("csat", 0.15, csat),
        ("complaints", 0.2, complaints),
    ] {
        factors.push(RiskFactor {
            factor: factor.into(),
            weight: Some(weight),
            value: Some(round2(value)),
            points: round2(width * weight * value),
        });
    }
    let total = start + width * (0.4 * recency + 0.25 * nps + 0.15 * csat + 0.2 * complaints);
    (Some(total.round() as i64), factors)
}

/// Everything about one customer, from its figures and the cuts of its kind.
pub fn assess(f: &Figures, cuts: &ScoreCuts, s: &InsightSettings, now: DateTime<Utc>) -> Insights {
    let recency_days = recency_days(f, now);
    let scores = (f.frequency > 0).then(|| {
        (
            cuts.recency.score(-recency_days.unwrap_or(0)),
            cuts.frequency.score(f.frequency),
            cuts.monetary.score(f.monetary),
        )
    });
    let (loyalty_status, reasons) = loyalty_status(f, s, now);
    let (churn_risk, churn_risk_factors) = churn_risk(loyalty_status, f, s, now);
    let computed_tier = match (loyalty_status, scores) {
        (LoyaltyStatus::Prospect, _) => None,
        (_, Some((_, _, 5))) => Some(ValueTier::High),
        (_, Some((_, _, 3..=4))) => Some(ValueTier::Medium),
        _ => Some(ValueTier::Low),
    };
    let manual = f.manual_value_tier.as_deref().and_then(ValueTier::parse);
    Insights {
        computed_at: now,
        currency: s.effective_base_currency.clone(),
        recency_days,
        frequency: f.frequency,
        monetary: f.monetary,
        recency_score: scores.map(|s| s.0),
        frequency_score: scores.map(|s| s.1),
        monetary_score: scores.map(|s| s.2),
        rfm_segment: rfm_segment(loyalty_status, scores),
        loyalty_status,
        reasons,
        satisfaction: CustomerSatisfaction {
            latest_nps: f.latest_nps,
            nps_class: f.latest_nps.map(nps_class),
            latest_csat: f.latest_csat,
            csat_class: f.latest_csat.map(csat_class),
            nps_12_months: RollingNps {
                score: (f.nps_responses > 0).then(|| {
                    let v = 100.0 * (f.promoters - f.detractors) as f64 / f.nps_responses as f64;
                    (v * 100.0).round() / 100.0
                }),
                responses: f.nps_responses,
            },
            open_complaints: f.open_complaints,
            breached_complaints: f.breached_complaints,
            overdue_complaints: f.overdue_complaints,
        },
        churn_risk,
        churn_risk_factors,
        value_tier: manual.or(computed_tier),
        value_tier_source: if manual.is_some() {
            ValueTierSource::Manual
        } else {
            ValueTierSource::Computed
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    const NOW: &str = "2026-06-01T09:00:00Z";

    fn customer(first: &str, last: &str, frequency: i64) -> Figures {
        Figures {
            first_purchase_at: Some(at(first)),
            last_purchase_at: Some(at(last)),
            frequency,
            ..Figures::default()
        }
    }

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

    #[test]
    fn loyalty_statuses_follow_their_order() {
        let s = InsightSettings::default();
        let now = at(NOW);
        let status = |f: &Figures| loyalty_status(f, &s, now).0;
        assert_eq!(status(&Figures::default()), LoyaltyStatus::Prospect);
        // First purchase 89 days ago: new, whatever else.
        let mut f = customer("2026-03-04T09:00:00Z", "2026-03-04T09:00:00Z", 1);
        f.latest_nps = Some(0);
        assert_eq!(status(&f), LoyaltyStatus::New);
        // Exactly 90 days ago: no longer new.
        let f = customer("2026-03-03T09:00:00Z", "2026-03-03T09:00:00Z", 1);
        assert_eq!(status(&f), LoyaltyStatus::Active);
        // Nothing in the window.
        let f = customer("2024-01-01T00:00:00Z", "2025-05-01T00:00:00Z", 0);
        assert_eq!(status(&f), LoyaltyStatus::Churned);
        // Last purchase 180 days ago (2025-12-03): at risk, even with repeat purchases.
        let f = customer("2025-01-01T00:00:00Z", "2025-12-03T09:00:00Z", 3);
        let (st, reasons) = loyalty_status(&f, &s, now);
        assert_eq!(st, LoyaltyStatus::AtRisk);
        assert_eq!(reasons[0].code, "no_recent_purchase");
        // A detractor and an overdue complaint, both reasons.
        let mut f = customer("2025-01-01T00:00:00Z", "2026-05-01T09:00:00Z", 3);
        f.latest_nps = Some(6);
        f.overdue_complaints = 1;
        let (st, reasons) = loyalty_status(&f, &s, now);
        assert_eq!(st, LoyaltyStatus::AtRisk);
        let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["detractor", "complaint_overdue"]);
        f.latest_nps = Some(7);
        f.overdue_complaints = 0;
        f.open_complaints = 1;
        assert_eq!(status(&f), LoyaltyStatus::Loyal);
        f.frequency = 1;
        assert_eq!(status(&f), LoyaltyStatus::Active);
    }

    #[test]
    fn segments_follow_their_order() {
        use LoyaltyStatus::*;
        assert_eq!(rfm_segment(Prospect, None), None);
        assert_eq!(rfm_segment(New, Some((1, 1, 1))), Some(RfmSegment::New));
        assert_eq!(rfm_segment(Churned, None), Some(RfmSegment::Lost));
        assert_eq!(
            rfm_segment(Loyal, Some((4, 4, 4))),
            Some(RfmSegment::Champions)
        );
        assert_eq!(rfm_segment(Loyal, Some((3, 5, 1))), Some(RfmSegment::Loyal));
        assert_eq!(
            rfm_segment(AtRisk, Some((2, 5, 5))),
            Some(RfmSegment::AtRisk)
        );
        assert_eq!(
            rfm_segment(AtRisk, Some((1, 1, 3))),
            Some(RfmSegment::AtRisk)
        );
        assert_eq!(
            rfm_segment(Active, Some((2, 2, 2))),
            Some(RfmSegment::Hibernating)
        );
        assert_eq!(
            rfm_segment(Active, Some((5, 1, 1))),
            Some(RfmSegment::PotentialLoyalist)
        );
    }

    #[test]
    fn an_at_risk_customer_always_scores_above_a_loyal_one() {
        let s = InsightSettings::default();
        let now = at(NOW);
        // The worst loyal customer: recency just under the limit, passive, dissatisfied, an open complaint.
        let mut worst_loyal = customer("2025-01-01T00:00:00Z", "2025-12-04T09:00:00Z", 2);
        worst_loyal.latest_nps = Some(7);
        worst_loyal.latest_csat = Some(1);
        worst_loyal.open_complaints = 1;
        let (st, _) = loyalty_status(&worst_loyal, &s, now);
        assert_eq!(st, LoyaltyStatus::Loyal);
        let (loyal, _) = churn_risk(st, &worst_loyal, &s, now);
        // The mildest at-risk customer: a detractor who bought yesterday, satisfied, no complaints.
        let mut mild = customer("2025-01-01T00:00:00Z", "2026-05-31T09:00:00Z", 5);
        mild.latest_nps = Some(6);
        mild.latest_csat = Some(5);
        let (st, _) = loyalty_status(&mild, &s, now);
        assert_eq!(st, LoyaltyStatus::AtRisk);
        let (at_risk, factors) = churn_risk(st, &mild, &s, now);
        assert!(at_risk > loyal, "{at_risk:?} > {loyal:?}");
        // 50 + 40 × (0.4 × 1/180 + 0.25 × 1 + 0) = 50 + 10.09 = 60.
        assert_eq!(at_risk, Some(60));
        assert_eq!(factors.len(), 5);
        // 0 + 25 × (0.4 × 179/180 + 0.25 × 0.5 + 0.15 × 1 + 0.2 × 0.5) = 25 × 0.7728 = 19.
        assert_eq!(loyal, Some(19));
        assert_eq!(
            churn_risk(LoyaltyStatus::Prospect, &Figures::default(), &s, now).0,
            None
        );
    }

    #[test]
    fn the_value_tier_is_computed_unless_set_by_hand() {
        let s = InsightSettings::default();
        let now = at(NOW);
        let all: Vec<Figures> = (1..=5)
            .map(|i| Figures {
                monetary: i * 100,
                ..customer("2025-01-01T00:00:00Z", "2026-05-01T00:00:00Z", 1)
            })
            .collect();
        let ranked: Vec<_> = all
            .iter()
            .map(|f| super::super::figures::Ranked {
                last_purchase_at: f.last_purchase_at,
                frequency: f.frequency,
                monetary: f.monetary,
            })
            .collect();
        let cuts = ScoreCuts::of(&ranked, now);
        let tiers: Vec<_> = all
            .iter()
            .map(|f| assess(f, &cuts, &s, now).value_tier)
            .collect();
        use ValueTier::*;
        assert_eq!(
            tiers,
            [Some(Low), Some(Low), Some(Medium), Some(Medium), Some(High)]
        );
        let mut manual = all[0].clone();
        manual.manual_value_tier = Some("high".into());
        let insights = assess(&manual, &cuts, &s, now);
        assert_eq!(
            (insights.value_tier, insights.value_tier_source),
            (Some(High), ValueTierSource::Manual)
        );
        assert_eq!(assess(&Figures::default(), &cuts, &s, now).value_tier, None);
    }
}
