//! The rules that turn one customer's figures into insights: scores, status,
//! segment, churn risk and value tier. Plain functions; the SQL that gathers
//! the figures is in [`super::figures`].

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::model::*;
use super::risk::churn_risk;
use super::scores::{ScoreCuts, days_since};
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

pub(super) fn recency_days(f: &Figures, now: DateTime<Utc>) -> Option<i64> {
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
pub(crate) mod tests {
    use super::*;

    pub(crate) fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    pub(crate) const NOW: &str = "2026-06-01T09:00:00Z";

    pub(crate) fn customer(first: &str, last: &str, frequency: i64) -> Figures {
        Figures {
            first_purchase_at: Some(at(first)),
            last_purchase_at: Some(at(last)),
            frequency,
            ..Figures::default()
        }
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
