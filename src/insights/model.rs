//! What the insights of one customer look like, stored as a document on the
//! account or contact and served by `GET /v1/accounts/{id}/insights`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::choice;

choice! {
    /// Where a customer stands, by the first rule that matches, in this order: `prospect` (never purchased),
    /// `new` (first purchase less than `new_customer_days` ago), `churned` (purchased before, not active now),
    /// `at_risk` (active, and the last purchase at least `at_risk_after_days` ago, or the latest NPS answer 6 or
    /// less, or an open complaint past its resolution due time), `loyal` (active, at least 2 purchases in the
    /// activity window), else `active`.
    pub enum LoyaltyStatus {
        Prospect = "prospect",
        New = "new",
        Churned = "churned",
        AtRisk = "at_risk",
        Loyal = "loyal",
        Active = "active",
    }
}

choice! {
    /// The RFM segment, by the first rule that matches, in this order (R, F, M are the 1–5 scores): `new` (first
    /// purchase less than `new_customer_days` ago), `champions` (R ≥ 4, F ≥ 4 and M ≥ 4), `loyal` (F ≥ 4 and
    /// R ≥ 3), `at_risk` (R ≤ 2 and F or M ≥ 3: used to buy often or much, not lately), `hibernating` (R ≤ 2),
    /// else `potential_loyalist`. A customer with purchases but none in the activity window is `lost`; one who
    /// never purchased has no segment.
    pub enum RfmSegment {
        New = "new",
        Champions = "champions",
        Loyal = "loyal",
        AtRisk = "at_risk",
        Hibernating = "hibernating",
        PotentialLoyalist = "potential_loyalist",
        Lost = "lost",
    }
}

choice! {
    /// The class of an NPS answer: `promoter` (9–10), `passive` (7–8), `detractor` (0–6).
    pub enum NpsClass {
        Promoter = "promoter",
        Passive = "passive",
        Detractor = "detractor",
    }
}

choice! {
    /// The class of a CSAT answer: `satisfied` (4–5), `neutral` (3), `dissatisfied` (1–2).
    pub enum CsatClass {
        Satisfied = "satisfied",
        Neutral = "neutral",
        Dissatisfied = "dissatisfied",
    }
}

choice! {
    /// `manual`: set by hand on the account and kept; `computed`: from the monetary quintiles at each refresh.
    pub enum ValueTierSource {
        Manual = "manual",
        Computed = "computed",
    }
}

/// Why a customer has its loyalty status: a machine-readable code and words for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// `never_purchased`, `first_purchase_recent`, `no_purchase_in_window`, `no_recent_purchase`, `detractor`,
    /// `complaint_overdue`, `repeat_purchases` or `purchased_in_window`.
    pub code: String,
    pub message: String,
}

/// One part of the churn risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RiskFactor {
    /// `status` (the band the loyalty status starts at), `recency`, `nps`, `csat` or `complaints`.
    pub factor: String,
    /// The factor's share of its band (the four weights sum to 1); `null` for `status`.
    pub weight: Option<f64>,
    /// How strongly the factor applies, 0 to 1; `null` for `status`.
    pub value: Option<f64>,
    /// What it adds to `churn_risk`.
    pub points: f64,
}

/// The NPS answers of the last twelve months.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RollingNps {
    /// `100 × (promoters − detractors) / responses` over answers received in (now − 365 days, now]; `null` without.
    pub score: Option<f64>,
    pub responses: i64,
}

/// What the customer said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerSatisfaction {
    /// The latest NPS answer (0–10) and its class.
    pub latest_nps: Option<i64>,
    pub nps_class: Option<NpsClass>,
    /// The latest CSAT answer (1–5) and its class.
    pub latest_csat: Option<i64>,
    pub csat_class: Option<CsatClass>,
    pub nps_12_months: RollingNps,
    /// Complaints not resolved or closed.
    pub open_complaints: i64,
    /// Open complaints whose service level is breached (first response or resolution late).
    pub breached_complaints: i64,
    /// Open complaints past their resolution due time (the clock stops while waiting on the customer).
    pub overdue_complaints: i64,
}

/// A customer's insights, recomputed when their purchases or feedback change (within seconds, by the
/// background job), for everyone hourly, and on `POST /v1/insights/refresh`.
///
/// **RFM.** `recency_days` = whole days since the last purchase; `frequency` = purchases in the activity window
/// W (`activity_window_days`); `monetary` = purchases − refunds in W, in minor units of the base currency (other
/// currencies are left out). Each gets a score 1–5 among the customers (of the same kind: accounts or contacts)
/// with a purchase in W: `score = 1 + floor(5 × k / n)`, where n is the number of those customers and k the number
/// of them with a strictly worse value (fewer purchases, less revenue, more days since the last purchase), so ties
/// share a score and the best fifth scores 5. Customers without a purchase in W have no scores.
///
/// **Churn risk** 0–100: the loyalty status sets a band — `loyal` 0–25, `active` and `new` 25–50, `at_risk` 50–90,
/// `churned` 100 — and within it `risk = start + width × (0.4 × recency + 0.25 × nps + 0.15 × csat + 0.2 ×
/// complaints)`, rounded, where recency = min(1, recency_days / at_risk_after_days); nps = 1 for a detractor, 0.5
/// passive, 0.25 no answer, 0 promoter (latest answer); csat = 1 dissatisfied, 0.5 neutral, 0.25 no answer, 0
/// satisfied; complaints = 1 with an overdue complaint, 0.5 with an open one, else 0. So an `at_risk` customer
/// always scores above a `loyal` one. Prospects have no churn risk.
///
/// **Value tier** (computed): `high` for a monetary score of 5 (the top 20 %), `medium` for 3–4 (the next 40 %),
/// `low` otherwise, including past customers without a purchase in W; none for prospects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "computed_at": "2026-11-30T10:00:00Z", "currency": "EUR",
    "recency_days": 12, "frequency": 4, "monetary": 4800000,
    "recency_score": 5, "frequency_score": 4, "monetary_score": 5, "rfm_segment": "champions",
    "loyalty_status": "loyal",
    "reasons": [{"code": "repeat_purchases", "message": "4 purchases in the last 365 days"}],
    "satisfaction": {"latest_nps": 9, "nps_class": "promoter", "latest_csat": 4, "csat_class": "satisfied",
        "nps_12_months": {"score": 100.0, "responses": 2}, "open_complaints": 0, "breached_complaints": 0,
        "overdue_complaints": 0},
    "churn_risk": 4,
    "churn_risk_factors": [
        {"factor": "status", "weight": null, "value": null, "points": 0.0},
        {"factor": "recency", "weight": 0.4, "value": 0.07, "points": 0.67},
        {"factor": "nps", "weight": 0.25, "value": 0.0, "points": 0.0},
        {"factor": "csat", "weight": 0.15, "value": 0.0, "points": 0.0},
        {"factor": "complaints", "weight": 0.2, "value": 0.0, "points": 0.0}],
    "value_tier": "high", "value_tier_source": "computed"
}))]
pub struct Insights {
    /// When these figures were computed.
    pub computed_at: DateTime<Utc>,
    /// The base currency of `monetary`.
    pub currency: String,
    pub recency_days: Option<i64>,
    pub frequency: i64,
    pub monetary: i64,
    pub recency_score: Option<u8>,
    pub frequency_score: Option<u8>,
    pub monetary_score: Option<u8>,
    pub rfm_segment: Option<RfmSegment>,
    pub loyalty_status: LoyaltyStatus,
    pub reasons: Vec<Reason>,
    pub satisfaction: CustomerSatisfaction,
    pub churn_risk: Option<i64>,
    pub churn_risk_factors: Vec<RiskFactor>,
    pub value_tier: Option<crate::domain::stages::ValueTier>,
    pub value_tier_source: ValueTierSource,
}
