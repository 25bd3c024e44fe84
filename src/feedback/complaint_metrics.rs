//! `GET /v1/metrics/complaints`: complaint volume and rate, resolution,
//! reopening and first-contact resolution over a period, overall, per group
//! and per calendar month or quarter; aggregated by the database.

use actix_web::{get, web};
use chrono::{DateTime, Datelike, Months, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::metrics::round2;
use super::metrics_sql::{self, ComplaintRow, Dimension};
use crate::{
    auth::{Area, Level, Principal},
    channels::metrics::period,
    choice,
    db::now,
    http::{ApiError, ApiResult, responses::*},
    state::AppState,
};

choice! {
    /// What complaint figures are grouped by.
    pub enum ComplaintGroupBy {
        /// The complaint's category (key: the category; `null` for uncategorised complaints).
        Category = "category",
        /// The channel it came in on (key: its id; label: its name).
        Channel = "channel",
        /// Its priority: `low`, `normal`, `high`, `urgent`.
        Priority = "priority",
    }
}

choice! {
    /// A calendar period in UTC.
    pub enum Interval {
        /// Calendar months: `2026-11`.
        Month = "month",
        /// Calendar quarters: `2026-Q4`.
        Quarter = "quarter",
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComplaintParams {
    /// Start of the period by `received_at`, inclusive (RFC 3339); defaults to 30 days before `to`.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub from: Option<DateTime<Utc>>,
    /// End of the period, exclusive (RFC 3339); defaults to now.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub to: Option<DateTime<Utc>>,
    /// One row per calendar month or quarter (UTC) in `intervals`; without it `intervals` is empty.
    #[param(value_type = Option<Interval>)]
    pub interval: Option<String>,
    /// Figures per category, channel or priority in `groups`; without it `groups` is empty.
    #[param(value_type = Option<ComplaintGroupBy>)]
    pub group_by: Option<String>,
}

/// Complaint figures over one group, interval or all of the period. Rates are in percent, rounded to two
/// decimals, and `null` when their denominator is 0.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintFigures {
    /// Complaints received.
    pub received: i64,
    /// Of those, the ones resolved or closed now.
    pub resolved: i64,
    /// Of those, the ones reopened at least once (`reopen_count > 0`).
    pub reopened: i64,
    /// Of those, the ones not resolved or closed now.
    pub open: i64,
    /// Of the resolved ones, those never waiting on the customer and never reopened.
    pub first_contact_resolved: i64,
    /// Feedback items of every kind received (complaints included): the denominator of `complaint_rate`.
    pub feedback_items: i64,
    /// `100 × received / feedback_items`.
    pub complaint_rate: Option<f64>,
    /// `100 × resolved / received`.
    pub resolution_rate: Option<f64>,
    /// `100 × reopened / received`.
    pub reopen_rate: Option<f64>,
    /// `100 × first_contact_resolved / resolved`.
    pub first_contact_resolution: Option<f64>,
}

/// One group's complaint figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintGroup {
    /// The category, channel id or priority; `null` for complaints without a category or channel.
    pub key: Option<String>,
    /// The channel's name when grouped by channel.
    pub label: Option<String>,
    #[serde(flatten)]
    pub figures: ComplaintFigures,
}

/// One calendar month's or quarter's complaint figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintInterval {
    /// `2026-11` for a month, `2026-Q4` for a quarter (UTC).
    pub key: String,
    /// Where the row starts: the start of the month or quarter, or `from` when that is later.
    pub from: DateTime<Utc>,
    /// Where the row ends (exclusive): the start of the next month or quarter, or `to` when that is earlier.
    pub to: DateTime<Utc>,
    #[serde(flatten)]
    pub figures: ComplaintFigures,
}

/// Complaints over a period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-10-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "interval": "month", "group_by": "category",
    "overall": {"received": 8, "resolved": 6, "reopened": 1, "open": 2, "first_contact_resolved": 3,
        "feedback_items": 40, "complaint_rate": 20.0, "resolution_rate": 75.0, "reopen_rate": 12.5,
        "first_contact_resolution": 50.0},
    "groups": [{"key": "billing", "label": null, "received": 8, "resolved": 6, "reopened": 1, "open": 2,
        "first_contact_resolved": 3, "feedback_items": 10, "complaint_rate": 80.0, "resolution_rate": 75.0,
        "reopen_rate": 12.5, "first_contact_resolution": 50.0}],
    "intervals": [{"key": "2026-10", "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z",
        "received": 8, "resolved": 6, "reopened": 1, "open": 2, "first_contact_resolved": 3, "feedback_items": 25,
        "complaint_rate": 32.0, "resolution_rate": 75.0, "reopen_rate": 12.5, "first_contact_resolution": 50.0},
        {"key": "2026-11", "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
        "received": 0, "resolved": 0, "reopened": 0, "open": 0, "first_contact_resolved": 0, "feedback_items": 15,
        "complaint_rate": 0.0, "resolution_rate": null, "reopen_rate": null, "first_contact_resolution": null}]
}))]
pub struct ComplaintMetrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub interval: Option<Interval>,
    pub group_by: Option<ComplaintGroupBy>,
    pub overall: ComplaintFigures,
    /// One entry per group with complaints, ordered by key (the group without a value last); empty without
    /// `group_by`.
    pub groups: Vec<ComplaintGroup>,
    /// One entry per calendar month or quarter the period touches, in order, months without complaints included;
    /// empty without `interval`.
    pub intervals: Vec<ComplaintInterval>,
}

impl ComplaintGroupBy {
    pub fn dimension(self) -> Dimension {
        match self {
            ComplaintGroupBy::Category => Dimension::Category,
            ComplaintGroupBy::Channel => Dimension::Channel,
            ComplaintGroupBy::Priority => Dimension::Priority,
        }
    }
}

impl Interval {
    pub fn dimension(self) -> Dimension {
        match self {
            Interval::Month => Dimension::Month,
            Interval::Quarter => Dimension::Quarter,
        }
    }
}

/// The rows of a grouping, when one is asked for.
async fn rows(
    db: &crate::db::Db,
    dim: Option<Dimension>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ComplaintRow>, ApiError> {
    match dim {
        Some(dim) => metrics_sql::complaints(db, dim, from, to).await,
        None => Ok(vec![]),
    }
}

/// `100 × part / whole`, rounded to two decimals; `None` when `whole` is 0.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| round2(Some(100.0 * part as f64 / whole as f64)).unwrap_or(0.0))
}

fn figures(row: Option<&ComplaintRow>) -> ComplaintFigures {
    let n = |f: fn(&ComplaintRow) -> i64| row.map_or(0, f);
    let (received, resolved, reopened) = (n(|r| r.received), n(|r| r.resolved), n(|r| r.reopened));
    let (fcr, items) = (n(|r| r.first_contact_resolved), n(|r| r.items));
    ComplaintFigures {
        received,
        resolved,
        reopened,
        open: n(|r| r.open),
        first_contact_resolved: fcr,
        feedback_items: items,
        complaint_rate: rate(received, items),
        resolution_rate: rate(resolved, received),
        reopen_rate: rate(reopened, received),
        first_contact_resolution: rate(fcr, resolved),
    }
}

/// The calendar months or quarters (UTC) that `[from, to)` touches, each as its key and its part of the period.
pub fn calendar_periods(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    interval: Interval,
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let step = match interval {
        Interval::Month => 1,
        Interval::Quarter => 3,
    };
    let first_month = (from.month0() / step) * step + 1;
    let Some(mut start) = Utc
        .with_ymd_and_hms(from.year(), first_month, 1, 0, 0, 0)
        .single()
    else {
        return vec![];
    };
    let mut out = Vec::new();
    while start < to {
        let Some(next) = start.checked_add_months(Months::new(step)) else {
            break;
        };
        let key = match interval {
            Interval::Month => start.format("%Y-%m").to_string(),
            Interval::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
        };
        out.push((key, start.max(from), next.min(to)));
        start = next;
    }
    out
}

/// Complaint metrics
///
/// Over complaints (feedback of kind `complaint`) received in `[from, to)` (default: the last 30 days), in their
/// state now:
///
/// - **complaint_rate** = `100 × received / feedback_items`: complaints among all feedback items (every kind)
///   received in the period (or the group, or the interval).
/// - **resolution_rate** = `100 × resolved / received`, where resolved means `resolved` or `closed` now.
/// - **reopen_rate** = `100 × reopened / received`, where reopened means reopened at least once.
/// - **first_contact_resolution** = `100 × first_contact_resolved / resolved`: resolved complaints that never
///   waited on the customer (no move to `waiting_on_customer` in their activity log) and were never reopened.
///
/// E.g. 10 feedback items of which 4 complaints: one resolved at once, one resolved after waiting on the
/// customer, one reopened and resolved again, one open give complaint_rate 40, resolution_rate 75, reopen_rate
/// 25 and first_contact_resolution 33.33. Rates are percentages with two decimals, `null` when the denominator
/// is 0. Figures come `overall`, with `group_by` per category, channel or priority (groups with complaints), and
/// with `interval` per calendar month or quarter in **UTC**, every one the period touches (the first and last
/// may be partial).
#[utoipa::path(
    security(("bearer" = ["metrics:read"])),
    tag = "metrics",
    params(ComplaintParams),
    responses(
        (status = 200, description = "Complaint figures over the period.", body = ComplaintMetrics),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/metrics/complaints")]
pub async fn complaint_metrics(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ComplaintParams>,
) -> ApiResult<web::Json<ComplaintMetrics>> {
    principal.require(Area::Metrics, Level::Read)?;
    let group_by = match params.group_by.as_deref() {
        None | Some("") => None,
        Some(g) => Some(ComplaintGroupBy::from_query("group_by", g)?),
    };
    let interval = match params.interval.as_deref() {
        None | Some("") => None,
        Some(i) => Some(Interval::from_query("interval", i)?),
    };
    let (from, to) = period(params.from, params.to, now())?;
    let db = &state.db;
    let group_dim = group_by.map(ComplaintGroupBy::dimension);
    let interval_dim = interval.map(Interval::dimension);
    let (grouped, by_interval) = futures_util::future::try_join(
        rows(db, group_dim, from, to),
        rows(db, interval_dim, from, to),
    )
    .await?;
    // Each item is in one group and one month or quarter, so the overall figures are either partition's rows
    // added up: a grouping asked for serves the overall figures too, with no pass of their own.
    let overall = match (group_dim, interval_dim) {
        (Some(_), _) => ComplaintRow::total(&grouped),
        (None, Some(_)) => ComplaintRow::total(&by_interval),
        (None, None) => {
            ComplaintRow::total(&metrics_sql::complaints(db, Dimension::Overall, from, to).await?)
        }
    };
    let groups = grouped
        .iter()
        .filter(|r| r.received > 0)
        .map(|r| ComplaintGroup {
            key: r.key.key(),
            label: r.key.label.clone(),
            figures: figures(Some(r)),
        })
        .collect();
    let intervals = interval.map_or_else(Vec::new, |i| {
        calendar_periods(from, to, i)
            .into_iter()
            .map(|(key, start, end)| {
                let row = by_interval
                    .iter()
                    .find(|r| r.key.group_text.as_deref() == Some(&key));
                ComplaintInterval {
                    figures: figures(row),
                    key,
                    from: start,
                    to: end,
                }
            })
            .collect()
    });
    Ok(web::Json(ComplaintMetrics {
        from,
        to,
        interval,
        group_by,
        overall: figures(Some(&overall)),
        groups,
        intervals,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn rates_are_percentages_and_null_without_a_denominator() {
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(1, 3), Some(33.33));
        assert_eq!(rate(4, 10), Some(40.0));
        assert_eq!(rate(0, 5), Some(0.0));
    }

    #[test]
    fn months_cover_the_period_and_clip_its_ends() {
        let p = calendar_periods(
            at("2026-01-15T12:00:00Z"),
            at("2026-03-01T00:00:00Z"),
            Interval::Month,
        );
        assert_eq!(
            p,
            [
                (
                    "2026-01".to_string(),
                    at("2026-01-15T12:00:00Z"),
                    at("2026-02-01T00:00:00Z")
                ),
                (
                    "2026-02".to_string(),
                    at("2026-02-01T00:00:00Z"),
                    at("2026-03-01T00:00:00Z")
                ),
            ]
        );
        let one = calendar_periods(
            at("2026-05-02T09:00:00Z"),
            at("2026-06-01T09:00:00Z"),
            Interval::Month,
        );
        assert_eq!(
            one.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ["2026-05", "2026-06"]
        );
    }

    #[test]
    fn quarters_start_in_january_april_july_and_october() {
        let p = calendar_periods(
            at("2025-11-30T00:00:00Z"),
            at("2026-04-01T00:00:00Z"),
            Interval::Quarter,
        );
        let keys: Vec<&str> = p.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(keys, ["2025-Q4", "2026-Q1"]);
        assert_eq!(p[1].1, at("2026-01-01T00:00:00Z"));
        assert_eq!(p[1].2, at("2026-04-01T00:00:00Z"));
        assert_eq!(p[0].1, at("2025-11-30T00:00:00Z"));
    }
}
