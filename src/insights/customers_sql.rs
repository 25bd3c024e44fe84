//! The SQL behind `GET /v1/metrics/customers`: each account's activity
//! from its spells and its purchases and revenue from its transaction totals
//! (see `activity`), then added up per group.

use chrono::{DateTime, TimeDelta, Utc};
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
    /// Which period: 0 for the whole `[first, last boundary)`, j for the slice between boundaries j − 1 and j.
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

/// The counts of the period from the first to the last of `boundaries` (period 0) and, when there are more
/// than two, of each slice between two consecutive ones (periods 1, 2, …), with activity window `window_days`
/// and revenue in `currency`. One query serves every period: each account's activity at every boundary (from
/// its spells) and its figures of every slice (from its totals of the slice's whole UTC months, quarters and
/// years, and the transactions of the slice's other days) are read at once, then added up per period and group.
///
/// Every count is a sum over accounts, so on SQLite the accounts are split in two halves by id, each half is
/// counted on a connection of its own, side by side, and the halves' rows are added up: the work is CPU-bound,
/// and SQLite runs one query on one core.
/// PostgreSQL already spreads one query over parallel workers; split, it was no faster.
pub async fn customers(
    db: &Db,
    grouping: Grouping,
    boundaries: &[DateTime<Utc>],
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
    let counted = futures_util::future::try_join_all(halves.into_iter().map(|accounts| {
        customers_among(db, grouping, boundaries, window_days, currency, accounts)
    }))
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

/// [`customers`] over the accounts whose id is in `[from, to)` (`None`: unbounded).
async fn customers_among(
    db: &Db,
    grouping: Grouping,
    boundaries: &[DateTime<Utc>],
    window_days: i64,
    currency: &str,
    (from_account, to_account): (Option<Uuid>, Option<Uuid>),
) -> Result<Vec<CustomerRow>, ApiError> {
    let window = TimeDelta::days(window_days);
    let (Some(&first), Some(&last)) = (boundaries.first(), boundaries.last()) else {
        return Ok(vec![]);
    };
    let mut f = Filters::new();
    let start_window = f.arg(Arg::Time(first - window));
    let end = f.arg(Arg::Time(last));
    let currency = f.arg(Arg::Text(currency.to_string()));
    let points: Vec<String> = boundaries.iter().map(|b| f.arg(Arg::Time(*b))).collect();
    let mut accounts = String::new();
    if let Some(id) = from_account {
        accounts.push_str(&format!(" AND {{column}} >= {}", f.arg(Arg::Uuid(id))));
    }
    if let Some(id) = to_account {
        accounts.push_str(&format!(" AND {{column}} < {}", f.arg(Arg::Uuid(id))));
    }
    let among = |column: &str| accounts.replace("{column}", column);
    // b_0 − W is `start_window` (PostgreSQL refuses a placeholder that no clause reads).
    let window_starts: Vec<String> = boundaries
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if i == 0 {
                start_window.clone()
            } else {
                f.arg(Arg::Time(*b - window))
            }
        })
        .collect();
    let slices = points.len() - 1;
    let (group_id, group_text) = grouping.keys();
    let in_slice = |column: &str, j: usize| {
        format!("{column} >= {} AND {column} < {}", points[j - 1], points[j])
    };
    // One row per spell and per piece of a slice, each with a column per boundary (active then) and three per
    // slice (its purchases, revenue and transactions left out), added up per account below.
    let zeros = |count: usize| vec!["0"; count].join(", ");
    // Active at boundary i: a purchase in (b_i − W, b_i], i.e. a spell that started by b_i whose last purchase
    // is after b_i − W (migration 0020).
    let active: Vec<String> = (0..=slices)
        .map(|i| {
            format!(
                "CASE WHEN s.starts_at <= {} AND s.last_purchase_at > {} THEN 1 ELSE 0 END",
                points[i], window_starts[i]
            )
        })
        .collect();
    let slice_names: Vec<String> = (1..=slices)
        .flat_map(|j| ["purchases", "revenue", "left_out"].map(|name| format!("{name}_{j}")))
        .collect();
    // The first branch names the columns of the union.
    let mut facts = vec![format!(
        "SELECT s.account_id AS id, {}, {}
         FROM account_activity_spells s
         WHERE s.starts_at <= {end} AND s.last_purchase_at > {start_window}{}",
        active
            .iter()
            .enumerate()
            .map(|(i, case)| format!("{case} AS active_{i}"))
            .collect::<Vec<_>>()
            .join(", "),
        slice_names
            .iter()
            .map(|name| format!("0 AS {name}"))
            .collect::<Vec<_>>()
            .join(", "),
        among("s.account_id"),
    )];
    // A slice's purchases, revenue and transactions left out: whole UTC months, quarters and years from the
    // totals, and the transactions of the slice's ends within a month added or taken away.
    for j in 1..=slices {
        let (before, after) = (zeros(slices + 1 + 3 * (j - 1)), zeros(3 * (slices - j)));
        let around = |counts: String| {
            [before.as_str(), counts.as_str(), after.as_str()]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for piece in activity::pieces(boundaries[j - 1], boundaries[j]) {
            facts.push(match piece {
                Piece::Totals(unit, key) => format!(
                    "SELECT o.account_id, {}
                     FROM account_transaction_totals o
                     WHERE o.period_unit = '{}' AND o.period_key = {}{}",
                    around(format!(
                        "o.purchases, CASE WHEN o.currency = {currency} THEN o.net_amount ELSE 0 END,
                         CASE WHEN o.currency <> {currency} THEN o.transactions ELSE 0 END"
                    )),
                    unit.name(),
                    f.arg(Arg::Int(key)),
                    among("o.account_id"),
                ),
                Piece::Transactions(from, to) | Piece::LessTransactions(from, to) => {
                    let sign = if matches!(piece, Piece::LessTransactions(..)) { "-" } else { "" };
                    format!(
                        "SELECT t.account_id, {}
                         FROM transactions t
                         WHERE t.account_id IS NOT NULL AND t.occurred_at >= {} AND t.occurred_at < {}{}",
                        around(format!(
                            "{sign}CASE WHEN t.kind = 'purchase' THEN 1 ELSE 0 END,
                             {sign}CASE WHEN t.currency = {currency}
                                  THEN CASE WHEN t.kind = 'purchase' THEN t.amount ELSE -t.amount END ELSE 0 END,
                             {sign}CASE WHEN t.currency <> {currency} THEN 1 ELSE 0 END"
                        )),
                        f.arg(Arg::Time(from)),
                        f.arg(Arg::Time(to)),
                        among("t.account_id"),
                    )
                }
            });
        }
    }
    let columns: Vec<String> = (0..=slices)
        .map(|i| format!("active_{i}"))
        .chain(slice_names)
        .map(|name| {
            let add = if name.starts_with("active_") {
                "MAX"
            } else {
                "SUM"
            };
            format!("{add}({name}) AS {name}")
        })
        .collect();
    let complaint_columns: Vec<String> = (1..=slices)
        .map(|j| {
            format!(
                "SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS complaints_{j}",
                in_slice("f.received_at", j)
            )
        })
        .collect();
    // Period 0 is the whole of slices 1..=n; period j > 0 is slice j alone.
    let periods: Vec<(usize, usize, usize)> = if slices == 1 {
        vec![(0, 1, 1)]
    } else {
        std::iter::once((0, 1, slices))
            .chain((1..=slices).map(|j| (j, j, j)))
            .collect()
    };
    let selects: Vec<String> = periods
        .iter()
        .map(|&(period, first_slice, last_slice)| {
            let total = |name: &str| {
                (first_slice..=last_slice).map(|j| format!("p.{name}_{j}")).collect::<Vec<_>>().join(" + ")
            };
            let (start, end) = (format!("p.active_{}", first_slice - 1), format!("p.active_{last_slice}"));
            let (from, to) = (&points[first_slice - 1], &points[last_slice]);
            let first_in_period = format!("p.first_purchase_at >= {from} AND p.first_purchase_at < {to}");
            let purchases = total("purchases");
            format!(
                "SELECT CAST({period} AS BIGINT) AS period, p.group_id, p.group_text,
                    COALESCE(SUM({start}), 0) AS customers_at_start,
                    COALESCE(SUM(CASE WHEN {start} = 1 AND {end} = 1 THEN 1 ELSE 0 END), 0) AS retained,
                    COALESCE(SUM(CASE WHEN {start} = 1 AND {end} = 0 THEN 1 ELSE 0 END), 0) AS lost,
                    COALESCE(SUM(CASE WHEN {start} = 0 AND {end} = 1 AND {first_in_period} THEN 1 ELSE 0 END), 0) AS new,
                    COALESCE(SUM(CASE WHEN {start} = 0 AND {end} = 1 AND NOT ({first_in_period}) THEN 1 ELSE 0 END), 0)
                        AS reactivated,
                    COALESCE(SUM(CASE WHEN {purchases} >= 1 THEN 1 ELSE 0 END), 0) AS buyers,
                    COALESCE(SUM(CASE WHEN {purchases} >= 2 THEN 1 ELSE 0 END), 0) AS repeat_buyers,
                    CAST(COALESCE(SUM({}), 0) AS BIGINT) AS revenue,
                    CAST(COALESCE(SUM({}), 0) AS BIGINT) AS left_out,
                    CAST(COALESCE(SUM(CASE WHEN {start} = 1 OR {end} = 1 THEN {} ELSE 0 END), 0) AS BIGINT) AS complaints
                 FROM customers p
                 GROUP BY p.group_id, p.group_text",
                total("revenue"),
                total("left_out"),
                (first_slice..=last_slice)
                    .map(|j| format!("COALESCE(p.complaints_{j}, 0)"))
                    .collect::<Vec<_>>()
                    .join(" + "),
            )
        })
        .collect();
    // MATERIALIZED: each aggregate is computed once; PostgreSQL otherwise inlined them into a parallel join
    // where every worker aggregated everything. `customers` is materialized by both engines only when more
    // than one period reads it. On SQLite the complaints are read from their index by account (migration 0020),
    // in account order: the planner preferred `feedback_kind`, a table row each and a sort.
    let feedback = dialect!(db,
        sqlite: "feedback f INDEXED BY feedback_complaints_account",
        postgres: "feedback f",
    );
    let sql = format!(
        "WITH per_account AS MATERIALIZED (
            SELECT id, {columns}
            FROM ({facts}) AS facts
            GROUP BY id
         ),
         complaints AS MATERIALIZED (
            SELECT f.account_id AS id, {complaint_columns} FROM {feedback}
            WHERE f.kind = 'complaint' AND f.status IS NOT NULL AND f.account_id IS NOT NULL
              AND f.received_at >= {first} AND f.received_at < {end}{}
            GROUP BY f.account_id
         ),
         customers AS (
            SELECT p.*, {complaint_counts}, a.first_purchase_at, {group_id} AS group_id, {group_text} AS group_text
            FROM per_account p
            JOIN accounts a ON a.id = p.id AND a.deleted_at IS NULL
            LEFT JOIN complaints c ON c.id = p.id
         )
         {}",
        among("f.account_id"),
        selects.join(" UNION ALL "),
        columns = columns.join(", "),
        facts = facts.join(" UNION ALL "),
        complaint_columns = complaint_columns.join(", "),
        complaint_counts = (1..=slices).map(|j| format!("c.complaints_{j}")).collect::<Vec<_>>().join(", "),
        first = points[0],
    );
    Ok(on_db!(db, pool => crate::bind_args!(
        sqlx::query_as::<_, CustomerRow>(sqlx::AssertSqlSafe(sql)), f.args).fetch_all(pool).await)?)
}
