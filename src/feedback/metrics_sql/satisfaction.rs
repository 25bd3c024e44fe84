//! NPS, CSAT and CES over the scored feedback of a period.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Dimension, GroupKey, calendar};
use crate::{
    bind_args,
    db::{
        Db,
        sql::{Arg, Filters},
    },
    http::ApiError,
    on_db,
};

/// Which scored items count, besides the period.
#[derive(Debug, Default, Clone, Copy)]
pub struct SatisfactionFilter<'a> {
    pub account_id: Option<Uuid>,
    /// Only items of key accounts (`true`) or of other accounts (`false`; items without an account are neither).
    pub key_account: Option<bool>,
    pub kind: Option<&'a str>,
}

#[derive(Debug, Default, sqlx::FromRow)]
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
    pub ces_responses: i64,
    pub ces_mean: Option<f64>,
    pub ces_1: i64,
    pub ces_2: i64,
    pub ces_3: i64,
    pub ces_4: i64,
    pub ces_5: i64,
    pub ces_6: i64,
    pub ces_7: i64,
}

/// NPS = 100 × (promoters − detractors) / answers; CSAT = 100 × satisfied / answers; CES: mean and counts per score.
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
    CAST(AVG(CAST(f.csat AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS csat_mean,
    COUNT(f.ces) AS ces_responses,
    CAST(AVG(CAST(f.ces AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS ces_mean";

pub async fn satisfaction(
    db: &Db,
    dim: Dimension,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    filter: SatisfactionFilter<'_>,
) -> Result<Vec<SatisfactionRow>, ApiError> {
    let keys = dim.keys(calendar(db), filter.key_account.is_some());
    let mut f = Filters::new();
    f.when("f.received_at >= {}", Arg::Time(from))
        .when("f.received_at < {}", Arg::Time(to))
        .always("(f.nps IS NOT NULL OR f.csat IS NOT NULL OR f.ces IS NOT NULL)");
    if let Some(v) = filter.account_id {
        f.when("f.account_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = filter.key_account {
        f.when("a.key_account = {}", Arg::Bool(v));
    }
    if let Some(v) = filter.kind {
        f.when("f.kind = {}", Arg::Text(v.to_string()));
    }
    let distribution: Vec<String> = (1..=7)
        .map(|n| format!("COALESCE(SUM(CASE WHEN f.ces = {n} THEN 1 ELSE 0 END), 0) AS ces_{n}"))
        .collect();
    let sql = format!(
        "SELECT {}, {SATISFACTION}, {}
         FROM feedback f {}
         {} {} {}",
        keys.select,
        distribution.join(", "),
        keys.joins,
        f.where_sql(),
        keys.group,
        keys.order,
    );
    Ok(
        on_db!(db, pool => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.args).fetch_all(pool).await)?,
    )
}
