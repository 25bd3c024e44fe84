//! `GET /v1/metrics/customers`: retention, churn, new and reactivated
//! customers, repeat purchase rate, revenue, ARPU, CLV and complaint rate
//! over a period, overall, per group and per month or quarter.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use futures_util::{StreamExt, TryStreamExt};
use std::collections::HashMap;

use super::{
    customers_sql::{self, CustomerRow, Grouping},
    periods::{self, Interval, Slice},
    settings,
};
use crate::{
    auth::{Area, Level, Principal},
    channels::metrics::period,
    db::{Db, now},
    domain::currency::CurrencyCode,
    feedback::{
        calendar_api,
        metrics::{CesFigures, CsatFigures, NpsFigures, Satisfaction},
        metrics_sql::{self, GroupKey, SatisfactionFilter, SatisfactionRow},
    },
    http::{ApiError, ApiResult, responses::*},
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerMetricsParams {
    /// Start of the period, inclusive (RFC 3339); defaults to 30 days before `to`.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub from: Option<DateTime<Utc>>,
    /// End of the period, exclusive (RFC 3339); defaults to now.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub to: Option<DateTime<Utc>>,
    /// The currency of `revenue`, `arpu` and `clv` (ISO 4217); defaults to the settings' base currency.
    pub currency: Option<String>,
    /// `size_segment`, `value_tier`, `country`, `industry`, `owner` (the owner's user id) or `key_account`
    /// (`true`/`false`); without it only `overall`.
    pub group_by: Option<String>,
    /// `month` or `quarter`: also the figures of each calendar month or quarter of the period, in the working
    /// calendar's time zone (`GET /v1/service-levels/calendar`).
    pub interval: Option<String>,
}

/// The customer figures of one group (or all) over one period.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerFigures {
    /// The group's key: a size segment, value tier, country, industry, owner id or `true`/`false`; `null` for
    /// `overall` and for accounts without a value.
    pub key: Option<String>,
    /// S: accounts active at `from`.
    pub customers_at_start: i64,
    /// Active at `from` and at `to`.
    pub retained: i64,
    /// Active at `from`, not at `to`.
    pub lost: i64,
    /// Active at `to`, not at `from`, with their first purchase ever in the period.
    pub new: i64,
    /// The other accounts active at `to` and not at `from` (they had bought before).
    pub reactivated: i64,
    /// `retained / S`, 0 to 1 (four decimals); `null` when S = 0.
    pub retention_rate: Option<f64>,
    /// `lost / S`; `null` when S = 0.
    pub churn_rate: Option<f64>,
    /// Accounts with at least one purchase in the period.
    pub buyers: i64,
    /// Accounts with at least two purchases in the period / `buyers`; `null` without buyers.
    pub repeat_purchase_rate: Option<f64>,
    /// Purchases − refunds in the period, in minor units of `currency`.
    pub revenue: i64,
    /// `revenue / buyers` (two decimals); `null` without buyers.
    pub arpu: Option<f64>,
    /// `arpu × (365 / days) × gross_margin / annual churn`, where days is the period's length and annual churn =
    /// `1 − (1 − churn_rate)^(365 / days)`, at least 0.1 (a lifetime of at most ten years); two decimals; `null`
    /// without a churn rate or ARPU.
    pub clv: Option<f64>,
    /// Complaints received in the period from the accounts counted (S + new + reactivated).
    pub complaints: i64,
    /// `complaints / (S + new + reactivated)`; `null` when that is 0.
    pub complaint_rate: Option<f64>,
    /// Transactions of the period in other currencies, left out of `revenue`.
    pub left_out_transactions: i64,
    /// NPS, CSAT and CES of the answers received in the period (overall: every answer; per group: the answers
    /// of the group's accounts), as `GET /v1/metrics/satisfaction` computes them.
    pub nps: NpsFigures,
    pub csat: CsatFigures,
    pub ces: CesFigures,
}

/// The figures of one calendar month or quarter.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntervalFigures {
    /// `2026-07` or `2026-Q3`.
    pub interval: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub overall: CustomerFigures,
    pub groups: Vec<CustomerFigures>,
}

/// Customer figures over a period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-07-01T00:00:00Z", "to": "2026-10-01T00:00:00Z", "currency": "EUR", "group_by": null,
    "interval": null, "activity_window_days": 365,
    "overall": {"key": null, "customers_at_start": 40, "retained": 34, "lost": 6, "new": 5, "reactivated": 1,
        "retention_rate": 0.85, "churn_rate": 0.15, "buyers": 20, "repeat_purchase_rate": 0.25,
        "revenue": 48000000, "arpu": 2400000.0, "clv": 19418874.84, "complaints": 3, "complaint_rate": 0.0652,
        "left_out_transactions": 0,
        "nps": {"score": 20.0, "responses": 10, "promoters": 5, "passives": 2, "detractors": 3},
        "csat": {"score": 60.0, "mean": 3.8, "responses": 5, "satisfied": 3},
        "ces": {"mean": 2.5, "responses": 4, "distribution": {"1": 1, "2": 1, "3": 1, "4": 1, "5": 0, "6": 0, "7": 0}}},
    "groups": [], "intervals": []
}))]
pub struct CustomerMetrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub currency: String,
    pub group_by: Option<String>,
    pub interval: Option<String>,
    /// W, from the insight settings.
    pub activity_window_days: i64,
    pub overall: CustomerFigures,
    /// One entry per group with customers, ordered by key; empty without `group_by`.
    pub groups: Vec<CustomerFigures>,
    /// One entry per calendar month or quarter, in order; empty without `interval`.
    pub intervals: Vec<IntervalFigures>,
}

fn figures(
    row: CustomerRow,
    satisfaction: Satisfaction,
    days: f64,
    margin: f64,
) -> CustomerFigures {
    let s = row.customers_at_start;
    let churn_rate = periods::rate(row.lost, s);
    let arpu =
        (row.buyers > 0).then(|| (row.revenue as f64 / row.buyers as f64 * 100.0).round() / 100.0);
    let counted = s + row.new + row.reactivated;
    CustomerFigures {
        key: row
            .group_id
            .map(|id: Uuid| id.to_string())
            .or(row.group_text),
        customers_at_start: s,
        retained: row.retained,
        lost: row.lost,
        new: row.new,
        reactivated: row.reactivated,
        retention_rate: periods::rate(row.retained, s),
        churn_rate,
        buyers: row.buyers,
        repeat_purchase_rate: periods::rate(row.repeat_buyers, row.buyers),
        revenue: row.revenue,
        arpu,
        clv: periods::clv(arpu, days, margin, churn_rate),
        complaints: row.complaints,
        complaint_rate: periods::rate(row.complaints, counted),
        left_out_transactions: row.left_out,
        nps: satisfaction.nps,
        csat: satisfaction.csat,
        ces: satisfaction.ces,
    }
}

/// The NPS, CSAT and CES of one period per group of `grouping` (one row for `Overall`).
async fn answers(
    db: &Db,
    grouping: Grouping,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<SatisfactionRow>, ApiError> {
    metrics_sql::satisfaction(
        db,
        grouping.dimension(),
        from,
        to,
        SatisfactionFilter::default(),
    )
    .await
}

/// The answers of consecutive slices added up per group: those of the period they make up.
fn answers_of_whole(slices: &[Vec<SatisfactionRow>]) -> Vec<SatisfactionRow> {
    let mut by_key: HashMap<GroupKey, SatisfactionRow> = HashMap::new();
    for row in slices.iter().flatten() {
        by_key
            .entry(row.key.clone())
            .or_insert_with(|| SatisfactionRow {
                key: row.key.clone(),
                ..SatisfactionRow::default()
            })
            .add(row);
    }
    by_key.into_values().collect()
}

/// The overall figures and the groups' of one period, from its rows (one per group) and its answers.
fn assemble(
    rows: Vec<CustomerRow>,
    answers: Vec<SatisfactionRow>,
    grouping: Grouping,
    days: f64,
    margin: f64,
) -> (CustomerFigures, Vec<CustomerFigures>) {
    // Every count is a sum over accounts and each account is in one group,
    // so the overall counts are the groups' sums: one pass serves both. So are the answers'.
    let total = rows.iter().fold(CustomerRow::default(), |mut sum, row| {
        sum.add(row);
        sum
    });
    let overall = figures(
        total,
        SatisfactionRow::total(&answers).into_satisfaction(),
        days,
        margin,
    );
    if grouping == Grouping::Overall {
        return (overall, vec![]);
    }
    let mut by_key: HashMap<Option<String>, Satisfaction> = answers
        .into_iter()
        .map(|row| {
            let satisfaction = row.into_satisfaction();
            (satisfaction.key.clone(), satisfaction)
        })
        .collect();
    let groups = rows
        .into_iter()
        .map(|row| {
            let key = row
                .group_id
                .map(|id| id.to_string())
                .or(row.group_text.clone());
            let answers = by_key
                .remove(&key)
                .unwrap_or_else(|| SatisfactionRow::default().into_satisfaction());
            figures(row, answers, days, margin)
        })
        .collect();
    (overall, groups)
}

/// Customer metrics
///
/// A customer is an **account**. An account is **active at instant t** when it has a `purchase` with
/// `occurred_at` in (t − W, t], W = `activity_window_days` (`GET /v1/settings/insights`, default 365). For the
/// period `[from, to)` (default: the last 30 days):
///
/// - **S** = accounts active at `from`; **retained** = active at `from` and at `to`; **lost** = active at `from`,
///   not at `to`; **new** = active at `to`, not at `from`, whose first purchase ever is in the period;
///   **reactivated** = the other accounts active at `to` and not at `from`.
/// - **retention_rate** = retained / S; **churn_rate** = lost / S (`null` when S = 0).
/// - **repeat_purchase_rate** = accounts with ≥ 2 purchases in the period / accounts with ≥ 1.
/// - **revenue** = purchases − refunds in the period, in `currency` (default the base currency; other currencies
///   are not converted but left out, and `left_out_transactions` counts them). **arpu** = revenue / accounts
///   with ≥ 1 purchase in the period.
/// - **clv** = arpu × (365 / period days) × gross_margin / annual churn, where annual churn = 1 − (1 −
///   churn_rate)^(365 / period days), floored at 0.1 (a lifetime of at most 10 years); `null` without a churn
///   rate.
/// - **complaint_rate** = complaints received in the period from those accounts / (S + new + reactivated).
///
/// Rates are fractions from 0 to 1 with four decimals; money is in minor units. Figures come `overall`, per
/// group with `group_by`, and per calendar month or quarter with `interval` (each slice is a period of its own).
/// Transactions without an account are not counted.
#[utoipa::path(
    security(("bearer" = ["metrics:read"])),
    tag = "metrics",
    params(CustomerMetricsParams),
    responses(
        (status = 200, description = "The customer figures of the period.", body = CustomerMetrics),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/metrics/customers")]
pub async fn customer_metrics(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<CustomerMetricsParams>,
) -> ApiResult<web::Json<CustomerMetrics>> {
    principal.require(Area::Metrics, Level::Read)?;
    let grouping = Grouping::parse(params.group_by.as_deref())?;
    let interval = Interval::parse(params.interval.as_deref())?;
    let (from, to) = period(params.from, params.to, now())?;
    let settings = settings::load(&state.db).await?;
    let currency = match params.currency.as_deref() {
        Some(text) => CurrencyCode::parse(text)
            .map_err(|e| ApiError::bad_request(format!("currency={text:?} is not valid: {e}")))?
            .as_str()
            .to_string(),
        None => settings.effective_base_currency.clone(),
    };
    let slices = match interval {
        Some(interval) => {
            let calendar = calendar_api::load_work(&state.db).await?;
            periods::slices(from, to, interval, &calendar)
        }
        None => vec![],
    };
    let spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = std::iter::once((from, to))
        .chain(slices.iter().map(|slice| (slice.from, slice.to)))
        .collect();
    // The whole period, then each slice; a single slice is the whole period.
    let periods = if slices.len() > 1 {
        &spans[..]
    } else {
        &spans[..1]
    };
    let db = &state.db;
    let w = settings.activity_window_days;
    // The answers of each slice two at a time (each query is CPU-bound, and on the two cores measured more at
    // once would only hold more connections without finishing sooner); the whole period's are the slices' added
    // up, or, without slices, its own.
    let parts: Vec<(DateTime<Utc>, DateTime<Utc>)> = if slices.is_empty() {
        vec![(from, to)]
    } else {
        slices.iter().map(|slice| (slice.from, slice.to)).collect()
    };
    let (rows, part_answers) = futures_util::future::try_join(
        customers_sql::customers(db, grouping, periods, w, &currency),
        futures_util::stream::iter(parts)
            .map(|part| answers(db, grouping, part))
            .buffered(2)
            .try_collect::<Vec<_>>(),
    )
    .await?;
    let mut answers: Vec<Vec<SatisfactionRow>> = Vec::with_capacity(spans.len());
    answers.push(answers_of_whole(&part_answers));
    if !slices.is_empty() {
        answers.extend(part_answers);
    }
    let mut by_period: HashMap<i64, Vec<CustomerRow>> = HashMap::new();
    for row in rows {
        by_period.entry(row.period).or_default().push(row);
    }
    let margin = settings.gross_margin;
    // Period k of the query is span k, except that a single slice is the whole period (period 0).
    let mut figures_of = |k: usize| {
        let (from, to) = spans[k];
        let period = if periods.len() > 1 { k as i64 } else { 0 };
        let rows = by_period.get(&period).cloned().unwrap_or_default();
        let days = (to - from).num_seconds() as f64 / 86_400.0;
        assemble(
            rows,
            std::mem::take(&mut answers[k]),
            grouping,
            days,
            margin,
        )
    };
    let (overall, groups) = figures_of(0);
    let intervals = slices
        .into_iter()
        .enumerate()
        .map(|(i, Slice { label, from, to })| {
            let (overall, groups) = figures_of(i + 1);
            IntervalFigures {
                interval: label,
                from,
                to,
                overall,
                groups,
            }
        })
        .collect();
    Ok(web::Json(CustomerMetrics {
        from,
        to,
        currency,
        group_by: params.group_by.clone().filter(|g| !g.is_empty()),
        interval: params.interval.clone().filter(|i| !i.is_empty()),
        activity_window_days: settings.activity_window_days,
        overall,
        groups,
        intervals,
    }))
}
