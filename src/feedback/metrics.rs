//! `GET /v1/metrics/satisfaction` and `GET /v1/metrics/service-levels`:
//! figures over a period, aggregated by the database (see [`super::metrics_sql`]).

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::metrics_sql::{self, Dimension, GroupKey, SatisfactionRow};
use crate::{
    auth::{Area, Level, Principal},
    channels::metrics::period,
    db::now,
    http::{ApiError, ApiResult, responses::*},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(satisfaction_metrics)
        .service(super::service_level_metrics::service_level_metrics);
}

pub(super) fn round2(v: Option<f64>) -> Option<f64> {
    v.map(|v| (v * 100.0).round() / 100.0)
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
    /// `channel`, `segment` (the account's size segment) or `month` (UTC, `YYYY-MM`); without it only `overall`.
    pub group_by: Option<String>,
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

/// NPS and CSAT over one group (or all) of the period's feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct Satisfaction {
    /// The group: a channel id, a size segment (`enterprise`, `mid_market`, `small`) or a month (`2026-11`);
    /// `null` for `overall`, and for the group of feedback without a channel or account segment.
    pub key: Option<String>,
    /// The channel's name when grouped by channel.
    pub label: Option<String>,
    pub nps: NpsFigures,
    pub csat: CsatFigures,
}

/// Satisfaction over a period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z", "group_by": "channel",
    "overall": {"key": null, "label": null,
        "nps": {"score": 20.0, "responses": 10, "promoters": 5, "passives": 2, "detractors": 3},
        "csat": {"score": 60.0, "mean": 3.8, "responses": 5, "satisfied": 3}},
    "groups": [{"key": "01937c70-0000-7000-8000-000000000001", "label": "Client service hotline",
        "nps": {"score": 20.0, "responses": 10, "promoters": 5, "passives": 2, "detractors": 3},
        "csat": {"score": 60.0, "mean": 3.8, "responses": 5, "satisfied": 3}}]
}))]
pub struct SatisfactionMetrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: Option<String>,
    pub overall: Satisfaction,
    /// One entry per group that has answers, ordered by key; empty without `group_by`.
    pub groups: Vec<Satisfaction>,
}

fn group_key(key: &GroupKey) -> (Option<String>, Option<String>) {
    let id = key.channel_id.map(|id| id.to_string());
    (
        id.or(key.segment.clone())
            .or(key.month.clone())
            .or(key.priority.clone()),
        key.channel_name.clone(),
    )
}

impl SatisfactionRow {
    fn into_satisfaction(self) -> Satisfaction {
        let (key, label) = group_key(&self.key);
        Satisfaction {
            key,
            label,
            nps: NpsFigures {
                score: round2(self.nps),
                responses: self.nps_responses,
                promoters: self.promoters,
                passives: self.passives,
                detractors: self.detractors,
            },
            csat: CsatFigures {
                score: round2(self.csat),
                mean: round2(self.csat_mean),
                responses: self.csat_responses,
                satisfied: self.satisfied,
            },
        }
    }
}

/// Satisfaction metrics
///
/// Over feedback with a score received in `[from, to)` (default: the last 30 days), of any kind:
///
/// - **NPS** = `100 × (promoters − detractors) / responses`, where promoters answered 9–10, passives 7–8 and
///   detractors 0–6. E.g. answers 10, 10, 9, 9, 8, 7, 6, 5, 0, 10 give (5 − 3) / 10 = **20**.
/// - **CSAT** = `100 × satisfied / responses`, the share of answers of 4 or 5, with the mean score. E.g. 5, 4,
///   3, 2, 5 give 3 / 5 = **60%** (mean 3.8).
///
/// Figures come `overall` and, with `group_by`, per channel, per account size segment or per month (UTC).
#[utoipa::path(
    security(("bearer" = ["metrics:read"])),
    tag = "metrics",
    params(SatisfactionParams),
    responses(
        (status = 200, description = "NPS and CSAT over the period.", body = SatisfactionMetrics),
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
    let dim = match params.group_by.as_deref() {
        None | Some("") => None,
        Some("channel") => Some(Dimension::Channel),
        Some("segment") => Some(Dimension::Segment),
        Some("month") => Some(Dimension::Month),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "group_by={other:?} is not valid: use channel, segment or month."
            )));
        }
    };
    let (from, to) = period(params.from, params.to, now())?;
    let grouped = async {
        match dim {
            Some(dim) => metrics_sql::satisfaction(&state.db, dim, from, to).await,
            None => Ok(vec![]),
        }
    };
    let (overall, groups) = futures_util::future::try_join(
        metrics_sql::satisfaction(&state.db, Dimension::Overall, from, to),
        grouped,
    )
    .await?;
    let overall = overall
        .into_iter()
        .next()
        .map(SatisfactionRow::into_satisfaction)
        .ok_or_else(|| ApiError::internal("an aggregate without GROUP BY returned no row"))?;
    let groups = groups
        .into_iter()
        .map(SatisfactionRow::into_satisfaction)
        .collect();
    Ok(web::Json(SatisfactionMetrics {
        from,
        to,
        group_by: params.group_by.clone().filter(|g| !g.is_empty()),
        overall,
        groups,
    }))
}
