//! The SQL behind the satisfaction and service-level metrics. Every figure is
//! aggregated by the database; only one row per group comes back.
//!
//! Every query selects the same key columns (`channel_id`, `channel_name`,
//! `segment`, `month`, `priority`), NULL where a grouping does not use them,
//! so one row type serves every grouping.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::service_levels::sla_state_sql;
use crate::{db::Db, dialect, http::ApiError, on_db};

/// What a metrics query groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Overall,
    Channel,
    Segment,
    Month,
    Priority,
}

/// The engine's SQL for the `YYYY-MM` of an item's `received_at` (UTC).
fn month_of(db: &Db) -> &'static str {
    dialect!(db,
        // SQLite keeps RFC 3339 text in UTC: the month is its first seven characters.
        sqlite: "SUBSTR(f.received_at, 1, 7)",
        postgres: "TO_CHAR(f.received_at AT TIME ZONE 'UTC', 'YYYY-MM')",
    )
}

impl Dimension {
    /// The key columns, the joins they need and the GROUP BY clause, with
    /// `month` the engine's expression for an item's month (`month_of`).
    fn keys(self, month: &str) -> (String, &'static str, String) {
        let (channel_id, channel_name, segment, month_col, priority) = match self {
            Dimension::Channel => ("f.channel_id", "ch.name", "NULL", "NULL", "NULL"),
            Dimension::Segment => ("NULL", "NULL", "a.size_segment", "NULL", "NULL"),
            Dimension::Month => ("NULL", "NULL", "NULL", month, "NULL"),
            Dimension::Priority => ("NULL", "NULL", "NULL", "NULL", "f.priority"),
            Dimension::Overall => ("NULL", "NULL", "NULL", "NULL", "NULL"),
        };
        let typed = |expr: &str, ty: &str| {
            if expr == "NULL" {
                format!("CAST(NULL AS {ty})")
            } else {
                expr.to_string()
            }
        };
        let select = format!(
            "{} AS channel_id, {} AS channel_name, {} AS segment, {} AS month, {} AS priority",
            typed(channel_id, "UUID"),
            typed(channel_name, "TEXT"),
            typed(segment, "TEXT"),
            typed(month_col, "TEXT"),
            typed(priority, "TEXT"),
        );
        let (joins, group) = match self {
            Dimension::Channel => (
                "LEFT JOIN channels ch ON ch.id = f.channel_id",
                "GROUP BY f.channel_id, ch.name".to_string(),
            ),
            Dimension::Segment => (
                "LEFT JOIN accounts a ON a.id = f.account_id",
                "GROUP BY a.size_segment".to_string(),
            ),
            Dimension::Month => ("", format!("GROUP BY {month}")),
            Dimension::Priority => ("", "GROUP BY f.priority".to_string()),
            Dimension::Overall => ("", String::new()),
        };
        (select, joins, group)
    }
}

/// The key columns of a row; which are set depends on the dimension.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupKey {
    pub channel_id: Option<Uuid>,
    pub channel_name: Option<String>,
    pub segment: Option<String>,
    pub month: Option<String>,
    pub priority: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct SatisfactionRow {
    #[sqlx(flatten)]
    pub key: GroupKey,
    pub nps_responses: i64,
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
    pub nps: Option<f64>,
    pub csat_responses: i64,
    pub satisfied: i64,
    pub csat: Option<f64>,
    pub csat_mean: Option<f64>,
}

/// NPS = 100 × (promoters − detractors) / answers; CSAT = 100 × satisfied / answers.
const SATISFACTION: &str = "
    COUNT(f.nps) AS nps_responses,
    COALESCE(SUM(CASE WHEN f.nps >= 9 THEN 1 ELSE 0 END), 0) AS promoters,
    COALESCE(SUM(CASE WHEN f.nps BETWEEN 7 AND 8 THEN 1 ELSE 0 END), 0) AS passives,
    COALESCE(SUM(CASE WHEN f.nps <= 6 THEN 1 ELSE 0 END), 0) AS detractors,
    CAST(100.0 * (SUM(CASE WHEN f.nps >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN f.nps <= 6 THEN 1 ELSE 0 END))
         / NULLIF(COUNT(f.nps), 0) AS DOUBLE PRECISION) AS nps,
    COUNT(f.csat) AS csat_responses,
    COALESCE(SUM(CASE WHEN f.csat >= 4 THEN 1 ELSE 0 END), 0) AS satisfied,
    CAST(100.0 * SUM(CASE WHEN f.csat >= 4 THEN 1 ELSE 0 END) / NULLIF(COUNT(f.csat), 0) AS DOUBLE PRECISION) AS csat,
    CAST(AVG(CAST(f.csat AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS csat_mean";

pub async fn satisfaction(
    db: &Db,
    dim: Dimension,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SatisfactionRow>, ApiError> {
    let (keys, joins, group) = dim.keys(month_of(db));
    let order = if group.is_empty() {
        ""
    } else {
        "ORDER BY 1, 2, 3, 4"
    };
    let sql = format!(
        "SELECT {keys}, {SATISFACTION}
         FROM feedback f {joins}
         WHERE f.received_at >= $1 AND f.received_at < $2 AND (f.nps IS NOT NULL OR f.csat IS NOT NULL)
         {group} {order}"
    );
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(pool).await)?,
    )
}

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
    let (keys, joins, group) = dim.keys(month_of(db));
    let order = if group.is_empty() {
        ""
    } else {
        "ORDER BY 1, 2, 3, 4, 5"
    };
    let sla = sla_state_sql("$3");
    let sum = |cond: &str| format!("COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0)");
    let sql = format!(
        "SELECT {keys},
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
         FROM feedback f {joins}
         WHERE {}
         {group} {order}",
        sum("f.kind = 'complaint'"),
        sum("f.kind = 'inquiry'"),
        sum("f.first_responded_at IS NOT NULL"),
        sum("f.first_responded_at <= f.first_response_due_at"),
        sum("f.first_responded_at > f.first_response_due_at OR (f.first_responded_at IS NULL AND $3 > f.first_response_due_at)"),
        sum("f.resolved_at IS NOT NULL"),
        sum("f.resolved_at <= f.resolution_due_at"),
        sum("f.resolved_at > f.resolution_due_at OR (f.resolved_at IS NULL AND COALESCE(f.paused_at, $3) > f.resolution_due_at)"),
        sum(&format!("f.status NOT IN ('resolved', 'closed') AND {sla} = 'breached'")),
        period_filter("$4"),
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
    let (keys, joins, _) = dim.keys(month_of(db));
    let filter = period_filter("$3");
    let branch = |metric: &str, column: &str| {
        format!(
            "SELECT {keys}, '{metric}' AS metric, f.{column} AS v FROM feedback f {joins}
             WHERE {filter} AND f.{column} IS NOT NULL"
        )
    };
    let sql = format!(
        "SELECT channel_id, channel_name, segment, month, priority, metric,
                CAST(AVG(CAST(v AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS median_seconds
         FROM (
            SELECT g.*,
                   ROW_NUMBER() OVER (PARTITION BY channel_id, segment, month, priority, metric ORDER BY v) AS rn,
                   COUNT(*) OVER (PARTITION BY channel_id, segment, month, priority, metric) AS cnt
            FROM ({} UNION ALL {}) g
         ) r
         WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2)
         GROUP BY channel_id, channel_name, segment, month, priority, metric",
        branch("first_response", "first_response_seconds"),
        branch("resolution", "resolution_seconds"),
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(from).bind(to).bind(kind).fetch_all(pool).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dimension_selects_the_same_key_columns() {
        for dim in [
            Dimension::Overall,
            Dimension::Channel,
            Dimension::Segment,
            Dimension::Month,
            Dimension::Priority,
        ] {
            for month in [
                "SUBSTR(f.received_at, 1, 7)",
                "TO_CHAR(f.received_at, 'YYYY-MM')",
            ] {
                let (select, _, _) = dim.keys(month);
                for col in [
                    "AS channel_id",
                    "AS channel_name",
                    "AS segment",
                    "AS month",
                    "AS priority",
                ] {
                    assert!(select.contains(col), "{dim:?}: {select}");
                }
            }
        }
        let (_, joins, group) = Dimension::Segment.keys("m");
        assert!(joins.contains("accounts"));
        assert_eq!(group, "GROUP BY a.size_segment");
        assert_eq!(Dimension::Overall.keys("m").2, "");
    }
}
