//! The SQL behind `GET /v1/metrics/customers`: each account's activity
//! from its spells and its purchases and revenue from its transaction totals
//! (see `activity`), then added up per group.

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::{StreamExt, TryStreamExt};
use uuid::Uuid;

use super::activity::{self, Piece};
use crate::{
    db::{
        Db,
        split::add_up_by,
        sql::{Arg, Filters},
    },
    dialect,
    http::ApiError,
    on_db,
};

/// What the customer figures group by: an account attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Overall,
    SizeSegment,
    ValueTier,
    Country,
    Industry,
    Owner,
    KeyAccount,
}

impl Grouping {
    pub fn parse(text: Option<&str>) -> Result<Grouping, ApiError> {
        Ok(match text {
            None | Some("") => Grouping::Overall,
            Some("size_segment") => Grouping::SizeSegment,
            Some("value_tier") => Grouping::ValueTier,
            Some("country") => Grouping::Country,
            Some("industry") => Grouping::Industry,
            Some("owner") => Grouping::Owner,
            Some("key_account") => Grouping::KeyAccount,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "group_by={other:?} is not valid: use size_segment, value_tier, country, industry, owner or key_account."
                )));
            }
        })
    }

    /// The satisfaction metrics' dimension of the same attribute.
    pub fn dimension(self) -> crate::feedback::metrics_sql::Dimension {
        use crate::feedback::metrics_sql::Dimension;
        match self {
            Grouping::Overall => Dimension::Overall,
            Grouping::SizeSegment => Dimension::Segment,
            Grouping::ValueTier => Dimension::ValueTier,
            Grouping::Country => Dimension::Country,
            Grouping::Industry => Dimension::Industry,
            Grouping::Owner => Dimension::Owner,
            Grouping::KeyAccount => Dimension::KeyAccount,
        }
    }

    /// The key columns: `group_id` (a user id) and `group_text` (any other key).
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Grouping::Overall => ("CAST(NULL AS UUID)", "CAST(NULL AS TEXT)"),
            Grouping::SizeSegment => ("CAST(NULL AS UUID)", "a.size_segment"),
            Grouping::ValueTier => ("CAST(NULL AS UUID)", "a.value_tier"),
            Grouping::Country => ("CAST(NULL AS UUID)", "a.country"),
            Grouping::Industry => ("CAST(NULL AS UUID)", "a.industry"),
            Grouping::Owner => ("a.owner_id", "CAST(NULL AS TEXT)"),
            Grouping::KeyAccount => (
                "CAST(NULL AS UUID)",
                "CASE WHEN a.key_account THEN 'true' ELSE 'false' END",
            ),
        }
    }
}

/// One group's counts in one period; the rates are computed from them (see `customers`).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct CustomerRow {
    /// Which period: the index of its span in the periods asked for (0, the whole, then each slice).
    pub period: i64,
    pub group_id: Option<Uuid>,
    pub group_text: Option<String>,
    pub customers_at_start: i64,
    pub retained: i64,
    pub lost: i64,
    pub new: i64,
    pub reactivated: i64,
    pub buyers: i64,
    pub repeat_buyers: i64,
    pub revenue: i64,
    pub left_out: i64,
    pub complaints: i64,
}

impl CustomerRow {
    /// Adds another row's counts to this one's.
    pub fn add(&mut self, other: &CustomerRow) {
        self.customers_at_start += other.customers_at_start;
        self.retained += other.retained;
        self.lost += other.lost;
        self.new += other.new;
        self.reactivated += other.reactivated;
        self.buyers += other.buyers;
        self.repeat_buyers += other.repeat_buyers;
        self.revenue += other.revenue;
        self.left_out += other.left_out;
        self.complaints += other.complaints;
    }
}

/// The counts of each of `periods` (period k is `periods[k]`), with activity window `window_days` and revenue in
/// `currency`: each account's activity at the period's start and end (from its spells) and its purchases,
/// revenue and transactions left out (from its totals of the period's whole UTC months, quarters and years, and
/// the transactions of its ends), then added up per group.
///
/// Each period is a query of its own, narrow (whether an account bought twice is no sum of a year's quarters,
/// so the year is read whole, as a year), and two run side by side: the work is CPU-bound. Every count is a sum
/// over accounts, so on SQLite, where one query runs on one core, the accounts are also split in two halves by
/// id, counted side by side and added up. PostgreSQL already spreads one query over parallel workers.
pub async fn customers(
    db: &Db,
    grouping: Grouping,
    periods: &[(DateTime<Utc>, DateTime<Utc>)],
    window_days: i64,
    currency: &str,
) -> Result<Vec<CustomerRow>, ApiError> {
    let middle = if db.is_sqlite() {
        middle_account(db).await?
    } else {
        None
    };
    let halves = match middle {
        Some(middle) => vec![(None, Some(middle)), (Some(middle), None)],
        None => vec![(None, None)],
    };
    let queries: Vec<Query> = periods
        .iter()
        .enumerate()
        .flat_map(|(period, &span)| {
            halves.iter().map(move |&accounts| Query {
                period: period as i64,
                span,
                accounts,
            })
        })
        .collect();
    let counted: Vec<Vec<CustomerRow>> = futures_util::stream::iter(queries)
        .map(|query| query.run(db, grouping, window_days, currency))
        .buffered(2)
        .try_collect()
        .await?;
    // In the order of the answer: by period, then by key, groups without a value last as every metrics
    // grouping orders them.
    Ok(add_up_by(
        counted.into_iter().flatten(),
        |row| {
            (
                row.period,
                row.group_id.is_none(),
                row.group_id,
                row.group_text.is_none(),
                row.group_text.clone(),
            )
        },
        CustomerRow::add,
    ))
}

/// The account id at the middle of the accounts in id order; `None` with fewer than two accounts.
async fn middle_account(db: &Db) -> Result<Option<Uuid>, ApiError> {
    let sql =
        "SELECT id FROM accounts ORDER BY id LIMIT 1 OFFSET (SELECT COUNT(*) FROM accounts) / 2";
    let middle: Option<Uuid> =
        on_db!(db, pool => sqlx::query_scalar(sql).fetch_optional(pool).await)?;
    Ok(middle)
}

/// The counts of one period over the accounts whose id is in `accounts` (`[from, to)`, `None`: unbounded).
struct Query {
    period: i64,
    span: (DateTime<Utc>, DateTime<Utc>),
    accounts: (Option<Uuid>, Option<Uuid>),
}

impl Query {
    async fn run(
        self,
        db: &Db,
        grouping: Grouping,
        window_days: i64,
        currency: &str,
    ) -> Result<Vec<CustomerRow>, ApiError> {
        let window = TimeDelta::days(window_days);
        let ((from, to), period) = (self.span, self.period);
        let mut f = Filters::new();
        let (start, end) = (f.arg(Arg::Time(from)), f.arg(Arg::Time(to)));
        let (start_window, end_window) = (
            f.arg(Arg::Time(from - window)),
            f.arg(Arg::Time(to - window)),
        );
        let currency = f.arg(Arg::Text(currency.to_string()));
        let mut accounts = String::new();
        if let Some(id) = self.accounts.0 {
            accounts.push_str(&format!(" AND {{column}} >= {}", f.arg(Arg::Uuid(id))));
        }
        if let Some(id) = self.accounts.1 {
            accounts.push_str(&format!(" AND {{column}} < {}", f.arg(Arg::Uuid(id))));
        }
        let among = |column: &str| accounts.replace("{column}", column);
        // One row per spell and per piece of the period, added up per account. Active at t: a purchase in
        // (t − W, t], i.e. a spell that started by t whose last purchase is after t − W (migration 0020).
        let mut facts = vec![format!(
            "SELECT s.account_id AS id,
                CASE WHEN s.starts_at <= {start} AND s.last_purchase_at > {start_window} THEN 1 ELSE 0 END
                    AS active_at_start,
                CASE WHEN s.starts_at <= {end} AND s.last_purchase_at > {end_window} THEN 1 ELSE 0 END
                    AS active_at_end,
                0 AS purchases, 0 AS revenue, 0 AS left_out
             FROM account_activity_spells s
             WHERE s.starts_at <= {end} AND s.last_purchase_at > {start_window}{}",
            among("s.account_id"),
        )];
        // Whole UTC months, quarters and years from the totals; the transactions of the ends within a month
        // added or taken away.
        for piece in activity::pieces(from, to) {
            facts.push(match piece {
                Piece::Totals(unit, key) => format!(
                    "SELECT o.account_id, 0, 0, o.purchases,
                        CASE WHEN o.currency = {currency} THEN o.net_amount ELSE 0 END,
                        CASE WHEN o.currency <> {currency} THEN o.transactions ELSE 0 END
                     FROM account_transaction_totals o
                     WHERE o.period_unit = '{}' AND o.period_key = {}{}",
                    unit.name(),
                    f.arg(Arg::Int(key)),
                    among("o.account_id"),
                ),
                Piece::Transactions(from, to) | Piece::LessTransactions(from, to) => {
                    let sign = if matches!(piece, Piece::LessTransactions(..)) { "-" } else { "" };
                    format!(
                        "SELECT t.account_id, 0, 0, {sign}CASE WHEN t.kind = 'purchase' THEN 1 ELSE 0 END,
                            {sign}CASE WHEN t.currency = {currency}
                                 THEN CASE WHEN t.kind = 'purchase' THEN t.amount ELSE -t.amount END ELSE 0 END,
                            {sign}CASE WHEN t.currency <> {currency} THEN 1 ELSE 0 END
                         FROM transactions t
                         WHERE t.account_id IS NOT NULL AND t.occurred_at >= {} AND t.occurred_at < {}{}",
                        f.arg(Arg::Time(from)),
                        f.arg(Arg::Time(to)),
                        among("t.account_id"),
                    )
                }
            });
        }
        let (group_id, group_text) = grouping.keys();
        let first_in_period =
            format!("p.first_purchase_at >= {start} AND p.first_purchase_at < {end}");
        // MATERIALIZED: each aggregate is computed once; PostgreSQL otherwise inlined them into a parallel join
        // where every worker aggregated everything. On SQLite the complaints are read from their index by
        // account (migration 0020), in account order: the planner preferred `feedback_kind`, a table row each
        // and a sort.
        let feedback = dialect!(db,
            sqlite: "feedback f INDEXED BY feedback_complaints_account",
            postgres: "feedback f",
        );
        let sql = format!(
            "WITH per_account AS MATERIALIZED (
                SELECT id, MAX(active_at_start) AS active_at_start, MAX(active_at_end) AS active_at_end,
                    SUM(purchases) AS purchases, SUM(revenue) AS revenue, SUM(left_out) AS left_out
                FROM ({facts}) AS facts
                GROUP BY id
             ),
             complaints AS MATERIALIZED (
                SELECT f.account_id AS id, COUNT(*) AS complaints FROM {feedback}
                WHERE f.kind = 'complaint' AND f.status IS NOT NULL AND f.account_id IS NOT NULL
                  AND f.received_at >= {start} AND f.received_at < {end}{}
                GROUP BY f.account_id
             ),
             customers AS (
                SELECT p.*, COALESCE(c.complaints, 0) AS complaints, a.first_purchase_at,
                    {group_id} AS group_id, {group_text} AS group_text
                FROM per_account p
                JOIN accounts a ON a.id = p.id AND a.deleted_at IS NULL
                LEFT JOIN complaints c ON c.id = p.id
             )
             SELECT CAST({period} AS BIGINT) AS period, p.group_id, p.group_text,
                COALESCE(SUM(p.active_at_start), 0) AS customers_at_start,
                COALESCE(SUM(CASE WHEN p.active_at_start = 1 AND p.active_at_end = 1 THEN 1 ELSE 0 END), 0) AS retained,
                COALESCE(SUM(CASE WHEN p.active_at_start = 1 AND p.active_at_end = 0 THEN 1 ELSE 0 END), 0) AS lost,
                COALESCE(SUM(CASE WHEN p.active_at_start = 0 AND p.active_at_end = 1 AND {first_in_period}
                                  THEN 1 ELSE 0 END), 0) AS new,
                COALESCE(SUM(CASE WHEN p.active_at_start = 0 AND p.active_at_end = 1 AND NOT ({first_in_period})
                                  THEN 1 ELSE 0 END), 0) AS reactivated,
                COALESCE(SUM(CASE WHEN p.purchases >= 1 THEN 1 ELSE 0 END), 0) AS buyers,
                COALESCE(SUM(CASE WHEN p.purchases >= 2 THEN 1 ELSE 0 END), 0) AS repeat_buyers,
                CAST(COALESCE(SUM(p.revenue), 0) AS BIGINT) AS revenue,
                CAST(COALESCE(SUM(p.left_out), 0) AS BIGINT) AS left_out,
                CAST(COALESCE(SUM(CASE WHEN p.active_at_start = 1 OR p.active_at_end = 1 THEN p.complaints ELSE 0 END), 0)
                    AS BIGINT) AS complaints
             FROM customers p
             GROUP BY p.group_id, p.group_text",
            among("f.account_id"),
            facts = facts.join(" UNION ALL "),
        );
        let sql = sqlx::AssertSqlSafe(sql);
        Ok(match db {
            Db::Sqlite { reader, .. } => {
                crate::bind_args!(sqlx::query_as(sql), f.args)
                    .fetch_all(reader)
                    .await?
            }
            // PostgreSQL guesses 200 accounts for the per-account aggregate (it cannot count the ids of a union)
            // and would look each of the 100,000 up in `accounts` by index: hashing them halves the query.
            Db::Postgres(pool, _) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SET LOCAL enable_nestloop = off")
                    .execute(&mut *tx)
                    .await?;
                let rows: Vec<CustomerRow> = crate::bind_args!(sqlx::query_as(sql), f.args)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows
            }
        })
    }
}
