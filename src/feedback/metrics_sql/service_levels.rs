//! Service levels of complaints and inquiries: shares met, means and medians.

use chrono::{DateTime, Utc};

use super::{Dimension, GroupKey, calendar};
use crate::{
    db::Db,
    feedback::{service_levels::SlaState, sla_state::sla_state_condition},
    http::ApiError,
    on_db,
};

#[derive(Debug, sqlx::FromRow)]
pub struct ServiceLevelRow {
    #[sqlx(flatten)]
    pub key: GroupKey,
    pub items: i64,
    pub complaints: i64,
    pub inquiries: i64,
    pub first_responded: i64,
    pub first_response_met: i64,
    pub first_response_missed: i64,
    pub resolved: i64,
    pub resolution_met: i64,
    pub resolution_missed: i64,
    pub mean_first_response_seconds: Option<f64>,
    pub mean_resolution_seconds: Option<f64>,
    pub open_breached: i64,
}

/// The workflow items received in `[$1, $2)`, of kind `kind` (a placeholder bound to a kind or NULL for both).
fn period_filter(kind: &str) -> String {
    format!(
        "f.status IS NOT NULL AND f.received_at >= $1 AND f.received_at < $2 AND ({kind} IS NULL OR f.kind = {kind})"
    )
}

pub async fn service_levels(
    db: &Db,
    dim: Dimension,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    kind: Option<&str>,
) -> Result<Vec<ServiceLevelRow>, ApiError> {
    let keys = dim.keys(calendar(db), false);
    let breached = sla_state_condition(SlaState::Breached, "$3");
    let sum = |cond: &str| format!("COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0)");
    let sql = format!(
        "SELECT {},
            COUNT(*) AS items,
            {} AS complaints,
            {} AS inquiries,
            {} AS first_responded,
            {} AS first_response_met,
            {} AS first_response_missed,
            {} AS resolved,
            {} AS resolution_met,
            {} AS resolution_missed,
            CAST(AVG(CAST(f.first_response_seconds AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS mean_first_response_seconds,
            CAST(AVG(CAST(f.resolution_seconds AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS mean_resolution_seconds,
            {} AS open_breached
         FROM feedback f {}
         WHERE {}
         {} {}",
        keys.select,
        sum("f.kind = 'complaint'"),
        sum("f.kind = 'inquiry'"),
        sum("f.first_responded_at IS NOT NULL"),
        sum("f.first_responded_at <= f.first_response_due_at"),
        sum("f.first_responded_at > f.first_response_due_at OR (f.first_responded_at IS NULL AND $3 > f.first_response_due_at)"),
        sum("f.resolved_at IS NOT NULL"),
        sum("f.resolved_at <= f.resolution_due_at"),
        sum("f.resolved_at > f.resolution_due_at OR (f.resolved_at IS NULL AND COALESCE(f.paused_at, $3) > f.resolution_due_at)"),
        sum(&format!("f.status NOT IN ('resolved', 'closed') AND {breached}")),
        keys.joins,
        period_filter("$4"),
        keys.group,
        keys.order,
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(from).bind(to).bind(now).bind(kind).fetch_all(pool).await)?)
}

#[derive(Debug, sqlx::FromRow)]
pub struct MedianRow {
    #[sqlx(flatten)]
    pub key: GroupKey,
    pub metric: String,
    pub median_seconds: Option<f64>,
}

/// Medians of time to first response and to resolution, portably: number the
/// values of each group in order with a window function, then average the
/// middle one (odd count) or the middle two (even count).
pub async fn medians(
    db: &Db,
    dim: Dimension,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    kind: Option<&str>,
) -> Result<Vec<MedianRow>, ApiError> {
    let keys = dim.keys(calendar(db), false);
    let filter = period_filter("$3");
    let branch = |metric: &str, column: &str| {
        format!(
            "SELECT {}, '{metric}' AS metric, f.{column} AS v FROM feedback f {}
             WHERE {filter} AND f.{column} IS NOT NULL",
            keys.select, keys.joins
        )
    };
    let sql = format!(
        "SELECT group_id, group_text, label, metric,
                CAST(AVG(CAST(v AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS median_seconds
         FROM (
            SELECT g.*,
                   ROW_NUMBER() OVER (PARTITION BY group_id, group_text, metric ORDER BY v) AS rn,
                   COUNT(*) OVER (PARTITION BY group_id, group_text, metric) AS cnt
            FROM ({} UNION ALL {}) g
         ) r
         WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2)
         GROUP BY group_id, group_text, label, metric",
        branch("first_response", "first_response_seconds"),
        branch("resolution", "resolution_seconds"),
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(from).bind(to).bind(kind).fetch_all(pool).await)?)
}
