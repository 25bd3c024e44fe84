//! `GET /v1/metrics/satisfaction`: NPS, CSAT and CES over a period, aggregated
//! by the database (see [`super::metrics_sql`]). The service-level and
//! complaint metrics are registered here too.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::metrics_sql::{self, Dimension, SatisfactionFilter, SatisfactionRow};
use super::workflow::FeedbackKind;
use crate::{
    auth::{Area, Level, Principal},
    channels::metrics::period,
    choice,
    db::now,
    http::{ApiResult, responses::*},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(satisfaction_metrics)
        .service(super::service_level_metrics::service_level_metrics)
        .service(super::complaint_metrics::complaint_metrics);
}

pub(super) fn round2(v: Option<f64>) -> Option<f64> {
    v.map(|v| (v * 100.0).round() / 100.0)
}

choice! {
    /// What satisfaction figures are grouped by.
    pub enum SatisfactionGroupBy {
        /// The channel the feedback came in on (key: its id; label: its name).
        Channel = "channel",
        /// The account's size segment: `enterprise`, `mid_market`, `small`.
        Segment = "segment",
        /// The calendar month of `received_at` in UTC: `2026-11`.
        Month = "month",
        /// The calendar quarter of `received_at` in UTC: `2026-Q4`.
        Quarter = "quarter",
        /// The account's key-account flag: `true` or `false`.
        KeyAccount = "key_account",
        /// The account's value tier: `high`, `medium`, `low`.
        ValueTier = "value_tier",
        /// The account's lifecycle stage.
        LifecycleStage = "lifecycle_stage",
        /// The account's industry, as entered.
        Industry = "industry",
        /// The account's owner (key: the user's id; label: their display name).
        Owner = "owner",
        /// The engagement the feedback is about (key: its id; label: its name).
        Engagement = "engagement",
    }
}

impl SatisfactionGroupBy {
    pub fn dimension(self) -> Dimension {
        use SatisfactionGroupBy::*;
        match self {
            Channel => Dimension::Channel,
            Segment => Dimension::Segment,
            Month => Dimension::Month,
            Quarter => Dimension::Quarter,
            KeyAccount => Dimension::KeyAccount,
            ValueTier => Dimension::ValueTier,
            LifecycleStage => Dimension::LifecycleStage,
            Industry => Dimension::Industry,
            Owner => Dimension::Owner,
            Engagement => Dimension::Engagement,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SatisfactionParams {
    /// Start of the period by `received_at`, inclusive (RFC 3339); defaults to 30 days before `to`.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub from: Option<DateTime<Utc>>,
    /// End of the period, exclusive (RFC 3339); defaults to now.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub to: Option<DateTime<Utc>>,
    /// How to group the figures; without it only `overall`. Account attributes are the account's as they are now.
    #[param(value_type = Option<SatisfactionGroupBy>)]
    pub group_by: Option<String>,
    /// Only feedback of this account.
    pub account_id: Option<Uuid>,
    /// Only feedback of key accounts (`true`) or of other accounts (`false`); feedback without an account is in
    /// neither.
    pub key_account: Option<bool>,
    /// Only feedback of this kind (scores on any kind count; surveys carry most).
    #[param(value_type = Option<FeedbackKind>)]
    pub kind: Option<String>,
}

/// Net Promoter Score figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct NpsFigures {
    /// `100 × (promoters − detractors) / responses`, from −100 to 100, rounded to two decimals; `null` without answers.
    pub score: Option<f64>,
    /// Answers with an `nps` score.
    pub responses: i64,
    /// Answers of 9 or 10.
    pub promoters: i64,
    /// Answers of 7 or 8.
    pub passives: i64,
    /// Answers of 0 to 6.
    pub detractors: i64,
}

/// Customer satisfaction figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsatFigures {
    /// `100 × satisfied / responses`: the share of answers of 4 or 5, in percent, rounded to two decimals; `null` without answers.
    pub score: Option<f64>,
    /// The mean `csat` score (1–5), rounded to two decimals; `null` without answers.
    pub mean: Option<f64>,
    /// Answers with a `csat` score.
    pub responses: i64,
    /// Answers of 4 or 5.
    pub satisfied: i64,
}

/// How many answers gave each customer effort score; every score from 1 to 7 is present.
#[derive(Debug, Serialize, ToSchema)]
pub struct CesDistribution {
    #[serde(rename = "1")]
    pub s1: i64,
    #[serde(rename = "2")]
    pub s2: i64,
    #[serde(rename = "3")]
    pub s3: i64,
    #[serde(rename = "4")]
    pub s4: i64,
    #[serde(rename = "5")]
    pub s5: i64,
    #[serde(rename = "6")]
    pub s6: i64,
    #[serde(rename = "7")]
    pub s7: i64,
}

/// Customer effort score figures. The scale runs from 1 (very low effort) to 7 (very high effort): **lower is
/// better**.
#[derive(Debug, Serialize, ToSchema)]
pub struct CesFigures {
    /// The mean `ces` score (1–7), rounded to two decimals; lower means less effort, which is better; `null`
    /// without answers.
    pub mean: Option<f64>,
    /// Answers with a `ces` score.
    pub responses: i64,
    /// Answers per score, `"1"` to `"7"`.
    pub distribution: CesDistribution,
}

/// NPS, CSAT and CES over one group (or all) of the period's feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct Satisfaction {
    /// The group: a channel, owner or engagement id; a size segment, value tier, lifecycle stage or industry; a
    /// month (`2026-11`) or quarter (`2026-Q4`); `true` / `false` for key accounts. `null` for `overall`, and
    /// for the group of feedback without that attribute (no channel, no account, no owner…).
    pub key: Option<String>,
    /// The channel's or engagement's name, or the owner's display name, when grouped by one of those.
    pub label: Option<String>,
    pub nps: NpsFigures,
    pub csat: CsatFigures,
    pub ces: CesFigures,
}

/// Satisfaction over a period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z", "group_by": "channel",
    "overall": {"key": null, "label": null,
        "nps": {"score": 20.0, "responses": 10, "promoters": 5, "passives": 2, "detractors": 3},
        "csat": {"score": 60.0, "mean": 3.8, "responses": 5, "satisfied": 3},
        "ces": {"mean": 2.5, "responses": 4, "distribution": {"1": 1, "2": 1, "3": 1, "4": 1, "5": 0, "6": 0, "7": 0}}},
    "groups": [{"key": "01937c70-0000-7000-8000-000000000001", "label": "Client service hotline",
        "nps": {"score": 20.0, "responses": 10, "promoters": 5, "passives": 2, "detractors": 3},
        "csat": {"score": 60.0, "mean": 3.8, "responses": 5, "satisfied": 3},
        "ces": {"mean": 2.5, "responses": 4, "distribution": {"1": 1, "2": 1, "3": 1, "4": 1, "5": 0, "6": 0, "7": 0}}}]
}))]
pub struct SatisfactionMetrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: Option<SatisfactionGroupBy>,
    pub overall: Satisfaction,
    /// One entry per group that has answers, ordered by key (the group without a value last); empty without
    /// `group_by`.
    pub groups: Vec<Satisfaction>,
}

impl SatisfactionRow {
    pub fn into_satisfaction(self) -> Satisfaction {
        let (nps, csat, csat_mean, ces_mean) =
            (self.nps(), self.csat(), self.csat_mean(), self.ces_mean());
        Satisfaction {
            key: self.key.key(),
            label: self.key.label,
            nps: NpsFigures {
                score: round2(nps),
                responses: self.nps_responses,
                promoters: self.promoters,
                passives: self.passives,
                detractors: self.detractors,
            },
            csat: CsatFigures {
                score: round2(csat),
                mean: round2(csat_mean),
                responses: self.csat_responses,
                satisfied: self.satisfied,
            },
            ces: CesFigures {
                mean: round2(ces_mean),
                responses: self.ces_responses,
                distribution: CesDistribution {
                    s1: self.ces_1,
                    s2: self.ces_2,
                    s3: self.ces_3,
                    s4: self.ces_4,
                    s5: self.ces_5,
                    s6: self.ces_6,
                    s7: self.ces_7,
                },
            },
        }
    }
}

/// Satisfaction metrics
///
/// Over feedback with a score received in `[from, to)` (default: the last 30 days), of any kind unless `kind` is
/// given, optionally of one account (`account_id`) or of key accounts or the others (`key_account`):
///
/// - **NPS** = `100 × (promoters − detractors) / responses`, where promoters answered 9–10, passives 7–8 and
///   detractors 0–6. E.g. answers 10, 10, 9, 9, 8, 7, 6, 5, 0, 10 give (5 − 3) / 10 = **20**.
/// - **CSAT** = `100 × satisfied / responses`, the share of answers of 4 or 5, with the mean score. E.g. 5, 4,
///   3, 2, 5 give 3 / 5 = **60%** (mean 3.8).
/// - **CES** (customer effort score, 1 = very low effort … 7 = very high effort; **lower is better**) = the mean
///   of the `ces` answers, with how many answers gave each score. E.g. 1, 2, 3, 4 give a mean of **2.5**.
///
/// Each figure counts only the answers that carry its score. Figures come `overall` and, with `group_by`, per
/// channel, account size segment, key-account flag, value tier, lifecycle stage, industry or owner (the account's
/// attributes as they are now), per engagement, or per calendar month or quarter of `received_at` in UTC.
#[utoipa::path(
    security(("bearer" = ["metrics:read"])),
    tag = "metrics",
    params(SatisfactionParams),
    responses(
        (status = 200, description = "NPS, CSAT and CES over the period.", body = SatisfactionMetrics),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/metrics/satisfaction")]
async fn satisfaction_metrics(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<SatisfactionParams>,
) -> ApiResult<web::Json<SatisfactionMetrics>> {
    principal.require(Area::Metrics, Level::Read)?;
    let group_by = match params.group_by.as_deref() {
        None | Some("") => None,
        Some(g) => Some(SatisfactionGroupBy::from_query("group_by", g)?),
    };
    let kind = match params.kind.as_deref() {
        None | Some("") => None,
        Some(k) => Some(FeedbackKind::from_query("kind", k)?.as_str()),
    };
    let filter = SatisfactionFilter {
        account_id: params.account_id,
        key_account: params.key_account,
        kind,
    };
    let (from, to) = period(params.from, params.to, now())?;
    // Each answer is in one group, so the overall figures are the groups' rows added up: one pass serves both.
    let rows = metrics_sql::satisfaction(
        &state.db,
        group_by.map_or(Dimension::Overall, SatisfactionGroupBy::dimension),
        from,
        to,
        filter,
    )
    .await?;
    let overall = SatisfactionRow::total(&rows).into_satisfaction();
    let groups = match group_by {
        Some(_) => rows
            .into_iter()
            .map(SatisfactionRow::into_satisfaction)
            .collect(),
        None => vec![],
    };
    Ok(web::Json(SatisfactionMetrics {
        from,
        to,
        group_by,
        overall,
        groups,
    }))
}
