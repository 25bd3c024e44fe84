//! NPS, CSAT and CES over the scored feedback of a period.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Dimension, GroupKey, calendar};
use crate::feedback::complaint_metrics::{Interval, calendar_periods};
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

/// What the figures are computed from, summed over the items of one group (or of one account).
fn sums() -> String {
    let distribution: Vec<String> = (1..=7)
        .map(|n| format!("SUM(CASE WHEN f.ces = {n} THEN 1 ELSE 0 END) AS ces_{n}"))
        .collect();
    format!(
        "COUNT(f.nps) AS nps_responses,
         SUM(CASE WHEN f.nps >= 9 THEN 1 ELSE 0 END) AS promoters,
         SUM(CASE WHEN f.nps BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
         SUM(CASE WHEN f.nps <= 6 THEN 1 ELSE 0 END) AS detractors,
         COUNT(f.csat) AS csat_responses,
         SUM(CASE WHEN f.csat >= 4 THEN 1 ELSE 0 END) AS satisfied,
         SUM(f.csat) AS csat_sum,
         COUNT(f.ces) AS ces_responses,
         SUM(f.ces) AS ces_sum, {}",
        distribution.join(", ")
    )
}

/// The figures over rows of [`sums`] (as `f`): NPS = 100 × (promoters − detractors) / answers; CSAT = 100 ×
/// satisfied / answers; CES: mean and counts per score.
fn figures() -> String {
    let total = |column: &str| format!("CAST(COALESCE(SUM(f.{column}), 0) AS BIGINT) AS {column}");
    let counts: Vec<String> = [
        "nps_responses",
        "promoters",
        "passives",
        "detractors",
        "csat_responses",
        "satisfied",
        "ces_responses",
    ]
    .into_iter()
    .map(total)
    .chain((1..=7).map(|n| total(&format!("ces_{n}"))))
    .collect();
    let ratio = |numerator: &str, denominator: &str| {
        format!(
            "CAST({numerator} AS DOUBLE PRECISION) / CAST(NULLIF(SUM(f.{denominator}), 0) AS DOUBLE PRECISION)"
        )
    };
    format!(
        "{}, {} AS nps, {} AS csat, {} AS csat_mean, {} AS ces_mean",
        counts.join(", "),
        ratio(
            "100 * (SUM(f.promoters) - SUM(f.detractors))",
            "nps_responses"
        ),
        ratio("100 * SUM(f.satisfied)", "csat_responses"),
        ratio("SUM(f.csat_sum)", "csat_responses"),
        ratio("SUM(f.ces_sum)", "ces_responses"),
    )
}

/// The scored items of the period, summed per group, then the figures of each group. Grouped by an account
/// attribute on SQLite, the items are summed per account first, so each account is looked up once rather
/// than once per answer (a year of 400,000 answers from 40,000 accounts: 1.6 s → 0.5 s a call).
/// PostgreSQL hash-joins the accounts once anyway, and summing per account first cost it more (190 → 350 ms).
/// By month or quarter, each calendar period is a range of `received_at` of its own (see [`by_calendar`]).
pub async fn satisfaction(
    db: &Db,
    dim: Dimension,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    filter: SatisfactionFilter<'_>,
) -> Result<Vec<SatisfactionRow>, ApiError> {
    let per_account = dim.reads_accounts() && db.is_sqlite();
    let keys = dim.keys(calendar(db), filter.key_account.is_some() && !per_account);
    let mut f = Filters::new();
    f.always("(f.nps IS NOT NULL OR f.csat IS NOT NULL OR f.ces IS NOT NULL)");
    if let Some(v) = filter.account_id {
        f.when("f.account_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = filter.kind {
        f.when("f.kind = {}", Arg::Text(v.to_string()));
    }
    let key_account = filter.key_account.map(|v| f.arg(Arg::Bool(v)));
    if let (Some(p), false) = (&key_account, per_account) {
        f.always(&format!("a.key_account = {p}"));
    }
    if let Some(interval) = dim.calendar_interval() {
        return by_calendar(db, interval, from, to, f, &keys.joins).await;
    }
    f.when("f.received_at >= {}", Arg::Time(from))
        .when("f.received_at < {}", Arg::Time(to));
    let sql = if per_account {
        let outer_where =
            key_account.map_or_else(String::new, |p| format!("WHERE a.key_account = {p}"));
        keys.labelled(&format!(
            "SELECT {}, {}
             FROM (SELECT f.account_id, {} FROM feedback f {} GROUP BY f.account_id) f {}
             {outer_where} {}",
            keys.select,
            figures(),
            sums(),
            f.where_sql(),
            keys.joins,
            keys.group,
        ))
    } else {
        keys.labelled(&format!(
            "SELECT f.group_id, f.group_text, {}
             FROM (SELECT {}, {} FROM feedback f {} {} {}) f
             GROUP BY f.group_id, f.group_text",
            figures(),
            keys.select,
            sums(),
            keys.joins,
            f.where_sql(),
            keys.group,
        ))
    };
    Ok(
        on_db!(db, pool => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.args).fetch_all(pool).await)?,
    )
}

/// The figures of each UTC calendar month or quarter of `[from, to)` that has answers: one aggregate per
/// period over its own range of `received_at`, read in index order, where a `GROUP BY` of the month's text
/// would sort every answer of the year (1,000,000 items, a year by month: 318 → 222 ms on SQLite, 298 → 199 ms
/// on PostgreSQL).
/// `f` holds every condition but the period's; `joins` are the ones they read.
async fn by_calendar(
    db: &Db,
    interval: Interval,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mut f: Filters,
    joins: &str,
) -> Result<Vec<SatisfactionRow>, ApiError> {
    let periods = calendar_periods(from, to, interval);
    if periods.is_empty() {
        return Ok(vec![]);
    }
    let conditions = f.where_sql();
    let selects: Vec<String> = periods
        .into_iter()
        .map(|(key, start, end)| {
            let (key, start, end) = (f.arg(Arg::Text(key)), f.arg(Arg::Time(start)), f.arg(Arg::Time(end)));
            format!(
                "SELECT CAST(NULL AS UUID) AS group_id, CAST({key} AS TEXT) AS group_text, CAST(NULL AS TEXT) AS label,
                        {}
                 FROM (SELECT {} FROM feedback f {joins} {conditions}
                       AND f.received_at >= {start} AND f.received_at < {end}) f
                 HAVING SUM(f.nps_responses) + SUM(f.csat_responses) + SUM(f.ces_responses) > 0",
                figures(),
                sums(),
            )
        })
        .collect();
    let sql = format!("{} ORDER BY 2", selects.join(" UNION ALL "));
    Ok(
        on_db!(db, pool => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.args).fetch_all(pool).await)?,
    )
}
