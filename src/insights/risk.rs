//! The churn risk: a band set by the loyalty status, and the factors that
//! place a customer within it.

use chrono::{DateTime, Utc};

use super::model::*;
use super::rules::{Figures, csat_class, nps_class, recency_days};
use super::settings::InsightSettings;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::rules::{
        loyalty_status,
        tests::{NOW, at, customer},
    };

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
}
