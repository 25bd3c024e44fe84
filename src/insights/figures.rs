//! The SQL that gathers each customer's figures for the insight rules: one
//! aggregate per input (purchases in the window, the latest answers, the
//! answers of the last year, open complaints), joined to the customers.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::rules::Figures;
use crate::{
    db::{
        Db,
        sql::{Arg, Filters},
    },
    feedback::{service_levels::SlaState, sla_state::sla_state_condition},
    http::ApiError,
    on_db,
};

/// The two kinds of customer that have insights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Account,
    Contact,
}

impl Subject {
    pub const ALL: [Subject; 2] = [Subject::Account, Subject::Contact];

    pub fn table(self) -> &'static str {
        match self {
            Subject::Account => "accounts",
            Subject::Contact => "contacts",
        }
    }

    /// The column of transactions and feedback that names this customer.
    pub fn column(self) -> &'static str {
        match self {
            Subject::Account => "account_id",
            Subject::Contact => "contact_id",
        }
    }

    /// `transactions t`, read on SQLite through this customer's index, which
    /// carries every column the insight queries read (migration 0016): a scan
    /// in customer order, with no table reads and no sort for the GROUP BY.
    /// SQLite keeps no statistics here and, without them, prefers the
    /// `occurred_at` range and a sort of every row in it (a year's customer
    /// metrics at 1,000,000 transactions: 1.1 s against 0.6 s). PostgreSQL
    /// chooses by its statistics. The index's `IS NOT NULL` condition must
    /// be in the query's WHERE, or SQLite refuses the query.
    pub fn transactions(self, db: &Db) -> &'static str {
        match (db.is_sqlite(), self) {
            (true, Subject::Account) => "transactions t INDEXED BY transactions_account",
            (true, Subject::Contact) => "transactions t INDEXED BY transactions_contact",
            (false, _) => "transactions t",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Account => "account",
            Subject::Contact => "contact",
        }
    }

    /// The customers that have insights (as `s`): not deleted, and for
    /// contacts not erased (an erased person is no longer profiled).
    pub fn live(self) -> &'static str {
        match self {
            Subject::Account => "s.deleted_at IS NULL",
            Subject::Contact => "s.deleted_at IS NULL AND s.erased_at IS NULL",
        }
    }
}

/// Purchases and net revenue in `currency` per customer (`sid`), over the
/// transactions in (`start`, `at`] naming them; `only` narrows the
/// customers. The placeholders are the caller's.
fn purchases_in_window(
    db: &Db,
    subject: Subject,
    start: &str,
    at: &str,
    currency: &str,
    only: &str,
) -> String {
    let (col, transactions) = (subject.column(), subject.transactions(db));
    format!(
        "SELECT {col} AS sid,
                SUM(CASE WHEN kind = 'purchase' THEN 1 ELSE 0 END) AS frequency,
                CAST(SUM(CASE WHEN currency = {currency}
                         THEN CASE WHEN kind = 'purchase' THEN amount ELSE -amount END ELSE 0 END) AS BIGINT) AS monetary
         FROM {transactions}
         WHERE {col} IS NOT NULL AND occurred_at > {start} AND occurred_at <= {at} {only}
         GROUP BY {col}"
    )
}

/// The figures of every live customer of this kind, or of those with these ids.
pub async fn figures(
    db: &Db,
    subject: Subject,
    ids: Option<&[Uuid]>,
    window_days: i64,
    currency: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Figures>, ApiError> {
    let (table, col) = (subject.table(), subject.column());
    let mut f = Filters::new();
    let window_start = f.arg(Arg::Time(now - TimeDelta::days(window_days)));
    let at = f.arg(Arg::Time(now));
    let year_ago = f.arg(Arg::Time(now - TimeDelta::days(365)));
    let currency = f.arg(Arg::Text(currency.to_string()));
    // The same id list narrows every aggregate, so a few customers cost a few index lookups.
    let (only, only_s) = match ids {
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(|id| f.arg(Arg::Uuid(*id))).collect();
            let list = list.join(", ");
            (
                format!("AND {col} IN ({list})"),
                format!("AND s.id IN ({list})"),
            )
        }
        None => (String::new(), String::new()),
    };
    let manual_tier = match subject {
        Subject::Account => "CASE WHEN s.value_tier_source = 'manual' THEN s.value_tier END",
        Subject::Contact => "CAST(NULL AS TEXT)",
    };
    let open = "f.kind = 'complaint' AND f.status NOT IN ('resolved', 'closed')";
    let breached = sla_state_condition(SlaState::Breached, &at);
    let latest = |score: &str| {
        format!(
            "SELECT {col} AS sid, {score} AS score,
                    ROW_NUMBER() OVER (PARTITION BY {col} ORDER BY received_at DESC, id DESC) AS rn
             FROM feedback WHERE {col} IS NOT NULL AND {score} IS NOT NULL AND received_at <= {at} {only}"
        )
    };
    let sql = format!(
        "SELECT s.id, s.first_purchase_at, s.last_purchase_at,
                COALESCE(tx.frequency, 0) AS frequency, COALESCE(tx.monetary, 0) AS monetary,
                nps.score AS latest_nps, csat.score AS latest_csat,
                COALESCE(fb.nps_responses, 0) AS nps_responses, COALESCE(fb.promoters, 0) AS promoters,
                COALESCE(fb.detractors, 0) AS detractors, COALESCE(fb.open_complaints, 0) AS open_complaints,
                COALESCE(fb.breached_complaints, 0) AS breached_complaints,
                COALESCE(fb.overdue_complaints, 0) AS overdue_complaints,
                {manual_tier} AS manual_value_tier
         FROM {table} s
         LEFT JOIN ({tx}) tx ON tx.sid = s.id
         LEFT JOIN ({nps}) nps ON nps.sid = s.id AND nps.rn = 1
         LEFT JOIN ({csat}) csat ON csat.sid = s.id AND csat.rn = 1
         LEFT JOIN (
            SELECT f.{col} AS sid,
                   SUM(CASE WHEN f.nps IS NOT NULL AND f.received_at > {year_ago} AND f.received_at <= {at}
                            THEN 1 ELSE 0 END) AS nps_responses,
                   SUM(CASE WHEN f.nps >= 9 AND f.received_at > {year_ago} AND f.received_at <= {at}
                            THEN 1 ELSE 0 END) AS promoters,
                   SUM(CASE WHEN f.nps <= 6 AND f.received_at > {year_ago} AND f.received_at <= {at}
                            THEN 1 ELSE 0 END) AS detractors,
                   SUM(CASE WHEN {open} THEN 1 ELSE 0 END) AS open_complaints,
                   SUM(CASE WHEN {open} AND {breached} THEN 1 ELSE 0 END) AS breached_complaints,
                   SUM(CASE WHEN {open} AND COALESCE(f.paused_at, {at}) > f.resolution_due_at
                            THEN 1 ELSE 0 END) AS overdue_complaints
            FROM feedback f WHERE f.{col} IS NOT NULL {only_f}
            GROUP BY f.{col}
         ) fb ON fb.sid = s.id
         WHERE {live} {only_s}",
        tx = purchases_in_window(db, subject, &window_start, &at, &currency, &only),
        nps = latest("nps"),
        csat = latest("csat"),
        only_f = only.replace(&format!("AND {col}"), &format!("AND f.{col}")),
        live = subject.live(),
    );
    Ok(on_db!(db, pool => crate::bind_args!(
        sqlx::query_as::<_, Figures>(sqlx::AssertSqlSafe(sql)), f.args).fetch_all(pool).await)?)
}

/// What the scores rank: the last purchase, purchases and revenue in the
/// window of every live customer of this kind with a purchase in it.
#[derive(Debug, sqlx::FromRow)]
pub struct Ranked {
    pub last_purchase_at: Option<DateTime<Utc>>,
    pub frequency: i64,
    pub monetary: i64,
}

pub async fn population(
    db: &Db,
    subject: Subject,
    window_days: i64,
    currency: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Ranked>, ApiError> {
    let table = subject.table();
    let sql = format!(
        "SELECT s.last_purchase_at, tx.frequency, tx.monetary
         FROM ({tx}) tx JOIN {table} s ON s.id = tx.sid AND {live}
         WHERE tx.frequency > 0",
        tx = purchases_in_window(db, subject, "$1", "$2", "$3", ""),
        live = subject.live()
    );
    let window_start = now - TimeDelta::days(window_days);
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(window_start).bind(now).bind(currency).fetch_all(pool).await)?)
}

/// The ids of live customers of this kind after `after`, in id order.
pub async fn ids_after(
    db: &Db,
    subject: Subject,
    after: Uuid,
    limit: i64,
) -> Result<Vec<Uuid>, ApiError> {
    let sql = format!(
        "SELECT s.id FROM {} s WHERE {} AND s.id > $1 ORDER BY s.id LIMIT $2",
        subject.table(),
        subject.live()
    );
    Ok(
        on_db!(db, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(after).bind(limit).fetch_all(pool).await)?,
    )
}
