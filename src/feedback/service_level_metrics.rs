//! `GET /v1/metrics/service-levels`: how often the first-response and
//! resolution targets were met, overall, per channel and per priority.

use super::metrics::round2;
use super::{
    metrics_sql::{self, Dimension, MedianRow, ServiceLevelRow},
    service_levels::Priority,
    workflow::{FeedbackKind, WorkflowKind},
};
use crate::{
    auth::{Area, Level, Principal},
    channels::metrics::period,
    db::now,
    http::{ApiError, ApiResult, responses::*},
    state::AppState,
};
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevelParams {
    /// Start of the period by `received_at`, inclusive (RFC 3339); defaults to 30 days before `to`.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub from: Option<DateTime<Utc>>,
    /// End of the period, exclusive (RFC 3339); defaults to now.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub to: Option<DateTime<Utc>>,
    /// Only `complaint` or only `inquiry`; default both.
    #[param(value_type = Option<WorkflowKind>)]
    pub kind: Option<String>,
}

/// Service-level figures over one group (or all) of the period's complaints and inquiries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceLevelFigures {
    /// Complaints and inquiries received in the period.
    pub items: i64,
    pub complaints: i64,
    pub inquiries: i64,
    /// Items that have had their first response.
    pub first_responded: i64,
    /// Items first responded to by `first_response_due_at`.
    pub first_response_met: i64,
    /// Items first responded to late, or not yet and already overdue.
    pub first_response_missed: i64,
    /// `100 × first_response_met / (first_response_met + first_response_missed)`: the share first-responded within
    /// the service level among items whose outcome is known, in percent; `null` when none is known yet.
    pub first_response_within_sla: Option<f64>,
    /// Items resolved (and not reopened since).
    pub resolved: i64,
    /// Items resolved by `resolution_due_at`.
    pub resolution_met: i64,
    /// Items resolved late, or unresolved and already overdue (the clock stopped while waiting on the customer).
    pub resolution_missed: i64,
    /// `100 × resolution_met / (resolution_met + resolution_missed)`, in percent; `null` when none is known yet.
    pub resolution_within_sla: Option<f64>,
    /// Mean minutes from `received_at` to the first response.
    pub mean_first_response_minutes: Option<f64>,
    /// Median minutes from `received_at` to the first response (the middle value, or the mean of the middle two).
    pub median_first_response_minutes: Option<f64>,
    /// Mean minutes from `received_at` to resolution, not counting time waiting on the customer.
    pub mean_resolution_minutes: Option<f64>,
    /// Median minutes from `received_at` to resolution, not counting time waiting on the customer.
    pub median_resolution_minutes: Option<f64>,
    /// Items still open whose `sla_state` is `breached` now.
    pub open_breached: i64,
}

/// One channel's service levels.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelServiceLevels {
    /// `null` for items received without a channel.
    pub channel_id: Option<Uuid>,
    pub channel_name: Option<String>,
    #[serde(flatten)]
    pub figures: ServiceLevelFigures,
}

/// One priority's service levels.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriorityServiceLevels {
    pub priority: Priority,
    #[serde(flatten)]
    pub figures: ServiceLevelFigures,
}

/// Service levels over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceLevelMetrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub overall: ServiceLevelFigures,
    /// Per channel that received items in the period, by name.
    pub by_channel: Vec<ChannelServiceLevels>,
    /// Per priority that has items in the period, most urgent first.
    pub by_priority: Vec<PriorityServiceLevels>,
}

fn share(met: i64, missed: i64) -> Option<f64> {
    let known = met + missed;
    (known > 0).then(|| round2(Some(100.0 * met as f64 / known as f64)).unwrap_or(0.0))
}

fn minutes(seconds: Option<f64>) -> Option<f64> {
    round2(seconds.map(|s| s / 60.0))
}

fn figures(row: &ServiceLevelRow, medians: &[MedianRow]) -> ServiceLevelFigures {
    let median = |metric: &str| {
        medians
            .iter()
            .find(|m| m.metric == metric && m.key == row.key)
            .and_then(|m| m.median_seconds)
    };
    ServiceLevelFigures {
        items: row.items,
        complaints: row.complaints,
        inquiries: row.inquiries,
        first_responded: row.first_responded,
        first_response_met: row.first_response_met,
        first_response_missed: row.first_response_missed,
        first_response_within_sla: share(row.first_response_met, row.first_response_missed),
        resolved: row.resolved,
        resolution_met: row.resolution_met,
        resolution_missed: row.resolution_missed,
        resolution_within_sla: share(row.resolution_met, row.resolution_missed),
        mean_first_response_minutes: minutes(row.mean_first_response_seconds),
        median_first_response_minutes: minutes(median("first_response")),
        mean_resolution_minutes: minutes(row.mean_resolution_seconds),
        median_resolution_minutes: minutes(median("resolution")),
        open_breached: row.open_breached,
    }
}

/// Service-level metrics
///
/// Over complaints and inquiries received in `[from, to)` (default: the last 30 days), overall, per channel and
/// per priority:
///
/// - **first_response_within_sla** = `100 × first_response_met / (first_response_met + first_response_missed)`:
///   met means first responded by `first_response_due_at`; missed means responded late, or not yet and overdue.
///   Items still inside their window without a response are not counted either way.
/// - **resolution_within_sla** = `100 × resolution_met / (resolution_met + resolution_missed)`, likewise with
///   `resolved_at` and `resolution_due_at` (which moves later by time waiting on the customer).
/// - **mean / median time to first response** = over items with a first response, `first_responded_at −
///   received_at`; **to resolution** = over resolved items, `resolved_at − received_at − time waiting on the
///   customer`; in minutes. The median is the middle value (or the mean of the two middle values), computed by
///   the database.
/// - **open_breached** = items not resolved or closed whose `sla_state` is `breached` now.
#[utoipa::path(
    security(("bearer" = ["metrics:read"])),
    tag = "metrics",
    params(ServiceLevelParams),
    responses(
        (status = 200, description = "Service levels over the period.", body = ServiceLevelMetrics),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/metrics/service-levels")]
pub async fn service_level_metrics(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ServiceLevelParams>,
) -> ApiResult<web::Json<ServiceLevelMetrics>> {
    principal.require(Area::Metrics, Level::Read)?;
    let kind = match params.kind.as_deref() {
        Some(k) if FeedbackKind::parse(k).is_some_and(|k| !k.has_workflow()) => {
            return Err(ApiError::bad_request(format!(
                "kind={k} has no service levels: use complaint or inquiry, or leave it out for both."
            )));
        }
        Some(k) => Some(WorkflowKind::from_query("kind", k)?.as_str()),
        None => None,
    };
    let now = now();
    let (from, to) = period(params.from, params.to, now)?;
    let db = &state.db;
    // Six independent scans: run them side by side on the pool.
    let dims = [Dimension::Overall, Dimension::Channel, Dimension::Priority];
    let out = futures_util::future::try_join_all(dims.map(|dim| async move {
        futures_util::future::try_join(
            metrics_sql::service_levels(db, dim, from, to, now, kind),
            metrics_sql::medians(db, dim, from, to, kind),
        )
        .await
    }))
    .await?;
    let (channel_rows, channel_medians) = &out[1];
    let (priority_rows, priority_medians) = &out[2];
    let overall = out[0]
        .0
        .first()
        .map(|r| figures(r, &out[0].1))
        .ok_or_else(|| ApiError::internal("an aggregate without GROUP BY returned no row"))?;
    let mut by_channel: Vec<ChannelServiceLevels> = channel_rows
        .iter()
        .map(|r| ChannelServiceLevels {
            channel_id: r.key.group_id,
            channel_name: r.key.label.clone(),
            figures: figures(r, channel_medians),
        })
        .collect();
    by_channel.sort_by(|a, b| {
        a.channel_name
            .cmp(&b.channel_name)
            .then(a.channel_id.cmp(&b.channel_id))
    });
    let mut by_priority: Vec<PriorityServiceLevels> = priority_rows
        .iter()
        .map(|r| PriorityServiceLevels {
            priority: r
                .key
                .group_text
                .as_deref()
                .and_then(Priority::parse)
                .unwrap_or(Priority::Normal),
            figures: figures(r, priority_medians),
        })
        .collect();
    // Most urgent first.
    by_priority
        .sort_by_key(|p| std::cmp::Reverse(Priority::ALL.iter().position(|x| *x == p.priority)));
    Ok(web::Json(ServiceLevelMetrics {
        from,
        to,
        overall,
        by_channel,
        by_priority,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_count_only_known_outcomes() {
        assert_eq!(share(0, 0), None);
        assert_eq!(share(2, 1), Some(66.67));
        assert_eq!(share(3, 0), Some(100.0));
    }

    #[test]
    fn minutes_are_rounded() {
        assert_eq!(minutes(Some(90.0)), Some(1.5));
        assert_eq!(minutes(Some(100.0)), Some(1.67));
        assert_eq!(minutes(None), None);
    }
}
