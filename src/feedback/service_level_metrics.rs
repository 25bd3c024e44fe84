//! `GET /v1/metrics/service-levels`: how often the first-response and
//! resolution targets were met, overall, per channel and per priority.

use super::metrics::round2;
use super::{
    metrics_sql::{self, ServiceLevelRow},
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
use std::{cmp::Reverse, collections::BTreeMap};
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

/// The sums and the durations of any set of channel-and-priority groups: each figure is a sum over the
/// groups, and the means and medians are taken over their durations together.
#[derive(Debug, Default)]
struct Tally {
    items: i64,
    complaints: i64,
    inquiries: i64,
    first_responded: i64,
    first_response_met: i64,
    first_response_missed: i64,
    resolved: i64,
    resolution_met: i64,
    resolution_missed: i64,
    open_breached: i64,
    first_response_seconds: Vec<i64>,
    resolution_seconds: Vec<i64>,
}

impl Tally {
    /// One group's row, its duration lists read once.
    fn of(row: &ServiceLevelRow) -> Result<Tally, ApiError> {
        let mut tally = Tally {
            items: row.items,
            complaints: row.complaints,
            inquiries: row.inquiries,
            first_responded: row.first_responded,
            first_response_met: row.first_response_met,
            first_response_missed: row.first_response_missed,
            resolved: row.resolved,
            resolution_met: row.resolution_met,
            resolution_missed: row.resolution_missed,
            open_breached: row.open_breached,
            ..Tally::default()
        };
        push_list(
            &mut tally.first_response_seconds,
            row.first_response_seconds.as_deref(),
        )?;
        push_list(
            &mut tally.resolution_seconds,
            row.resolution_seconds.as_deref(),
        )?;
        Ok(tally)
    }

    /// Adds another set of groups to this one.
    fn merge(&mut self, other: &Tally) {
        self.items += other.items;
        self.complaints += other.complaints;
        self.inquiries += other.inquiries;
        self.first_responded += other.first_responded;
        self.first_response_met += other.first_response_met;
        self.first_response_missed += other.first_response_missed;
        self.resolved += other.resolved;
        self.resolution_met += other.resolution_met;
        self.resolution_missed += other.resolution_missed;
        self.open_breached += other.open_breached;
        self.first_response_seconds
            .extend_from_slice(&other.first_response_seconds);
        self.resolution_seconds
            .extend_from_slice(&other.resolution_seconds);
    }

    fn figures(mut self) -> ServiceLevelFigures {
        ServiceLevelFigures {
            items: self.items,
            complaints: self.complaints,
            inquiries: self.inquiries,
            first_responded: self.first_responded,
            first_response_met: self.first_response_met,
            first_response_missed: self.first_response_missed,
            first_response_within_sla: share(self.first_response_met, self.first_response_missed),
            resolved: self.resolved,
            resolution_met: self.resolution_met,
            resolution_missed: self.resolution_missed,
            resolution_within_sla: share(self.resolution_met, self.resolution_missed),
            mean_first_response_minutes: minutes(mean(&self.first_response_seconds)),
            median_first_response_minutes: minutes(median(&mut self.first_response_seconds)),
            mean_resolution_minutes: minutes(mean(&self.resolution_seconds)),
            median_resolution_minutes: minutes(median(&mut self.resolution_seconds)),
            open_breached: self.open_breached,
        }
    }
}

/// Appends the numbers of a comma-separated list (as the database aggregates them) to `values`.
fn push_list(values: &mut Vec<i64>, list: Option<&str>) -> Result<(), ApiError> {
    for number in list.into_iter().flat_map(|l| l.split(',')) {
        let value = number
            .trim()
            .parse()
            .map_err(|_| ApiError::internal(format!("a duration list held {number:?}")))?;
        values.push(value);
    }
    Ok(())
}

fn mean(values: &[i64]) -> Option<f64> {
    (!values.is_empty())
        .then(|| values.iter().map(|v| *v as f64).sum::<f64>() / values.len() as f64)
}

/// The middle value, or the mean of the two middle values; in linear time (the values are reordered).
fn median(values: &mut [i64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (below, upper, _) = values.select_nth_unstable(n / 2);
    let upper = *upper as f64;
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = below.iter().max().map_or(upper, |v| *v as f64);
    Some((lower + upper) / 2.0)
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
///   customer`; in minutes. The median is the middle value (or the mean of the two middle values).
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
    let rows = metrics_sql::service_levels(&state.db, from, to, now, kind).await?;
    let mut overall = Tally::default();
    let mut channels: BTreeMap<(Option<String>, Option<Uuid>), Tally> = BTreeMap::new();
    // Keyed most urgent first.
    let mut priorities: BTreeMap<Reverse<usize>, Tally> = BTreeMap::new();
    for row in &rows {
        let priority = Priority::parse(&row.priority)
            .ok_or_else(|| ApiError::internal(format!("unknown priority {:?}", row.priority)))?;
        let group = Tally::of(row)?;
        overall.merge(&group);
        channels
            .entry((row.channel_name.clone(), row.channel_id))
            .or_default()
            .merge(&group);
        let urgency = Priority::ALL
            .iter()
            .position(|p| *p == priority)
            .unwrap_or(0);
        priorities
            .entry(Reverse(urgency))
            .or_default()
            .merge(&group);
    }
    let overall = overall.figures();
    // By name, then id; items without a channel first.
    let by_channel = channels
        .into_iter()
        .map(|((channel_name, channel_id), tally)| ChannelServiceLevels {
            channel_id,
            channel_name,
            figures: tally.figures(),
        })
        .collect();
    let by_priority = priorities
        .into_iter()
        .map(|(Reverse(urgency), tally)| PriorityServiceLevels {
            priority: Priority::ALL[urgency],
            figures: tally.figures(),
        })
        .collect();
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
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [7]), Some(7.0));
        assert_eq!(median(&mut [9, 1, 5]), Some(5.0));
        assert_eq!(median(&mut [10, 1, 4, 3]), Some(3.5));
        assert_eq!(median(&mut [2, 2, 2, 9]), Some(2.0));
    }

    #[test]
    fn duration_lists_add_up_across_groups() {
        let mut values = vec![];
        push_list(&mut values, Some("60,120")).unwrap();
        push_list(&mut values, None).unwrap();
        push_list(&mut values, Some("30")).unwrap();
        assert_eq!(values, [60, 120, 30]);
        assert_eq!(mean(&values), Some(70.0));
        assert!(push_list(&mut values, Some("1,x")).is_err());
    }

    #[test]
    fn minutes_are_rounded() {
        assert_eq!(minutes(Some(90.0)), Some(1.5));
        assert_eq!(minutes(Some(100.0)), Some(1.67));
        assert_eq!(minutes(None), None);
    }
}
