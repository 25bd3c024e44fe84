//! Rows a transaction appends and never reads back — its audit events, its
//! outbox events, a new record's tag rows, its idempotency key — written
//! together in one round trip.
//!
//! A write used to send each of them as a statement of its own: a contact
//! create was BEGIN, the row, its tags, the audit event, the event, COMMIT,
//! and every statement is a round trip (on SQLite a hop to the connection's
//! thread and back, with the single writer connection held meanwhile).
//! [`Tx::append`] keeps such a row in the transaction instead, and the
//! transaction writes everything it holds just before its next statement or
//! its commit ([`Tx::flush`]): on SQLite as consecutive statements in one
//! query, on PostgreSQL as one statement (`WITH … AS (INSERT …) INSERT …`).
//! Whatever runs later in the transaction still sees the rows (erasure
//! rewrites them, for one), because they are written before it runs.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{Conn, Tx};

/// At most this many statements per round trip (each binds at most 10
/// values, tag rows one per tag: far below either engine's limit).
const PER_ROUND_TRIP: usize = 32;

/// A value bound to a kept row's statement.
#[derive(Debug, Clone)]
pub enum Bind {
    Uuid(Uuid),
    OptionalUuid(Option<Uuid>),
    Time(DateTime<Utc>),
    OptionalTime(Option<DateTime<Utc>>),
    Text(String),
    OptionalText(Option<String>),
    Int(i64),
    OptionalInt(Option<i64>),
    Json(Value),
}

/// One `INSERT` (or an `UPDATE` whose result nothing reads) whose
/// placeholders are `$1` … `$n`, with its `n` values.
#[derive(Debug, Clone)]
pub struct Record {
    sql: String,
    binds: Vec<Bind>,
    /// An `UPDATE` that must change a row, or nothing commits (see [`Tx::require`]).
    required: bool,
}

impl Record {
    pub fn new(sql: impl Into<String>, binds: Vec<Bind>) -> Self {
        Self {
            sql: sql.into(),
            binds,
            required: false,
        }
    }
}

/// What a transaction holds until it writes it.
#[derive(Debug, Default)]
pub struct Kept {
    records: Vec<Record>,
    events: i64,
}

impl Kept {
    /// How many more rows fit the commit's one round trip.
    pub(super) fn room_in_round_trip(&self) -> usize {
        PER_ROUND_TRIP.saturating_sub(self.records.len())
    }
}

impl Tx {
    /// Keeps `record` to be written with the transaction's next statement
    /// or its commit.
    pub fn append(&mut self, record: Record) {
        self.kept.records.push(record);
    }

    /// Whether [`Tx::require`] keeps its update to write it with the commit,
    /// in one statement with the other rows kept: on PostgreSQL, while the
    /// transaction has sent nothing.
    pub fn keeps_required(&self) -> bool {
        matches!(&self.conn, Conn::Postgres(c) if c.is_idle())
    }

    /// An `UPDATE` whose condition is what the transaction's other writes
    /// were computed from (a balance read under no lock, say): the
    /// transaction commits only if it changes a row, and fails with
    /// [`sqlx::Error::RowNotFound`] otherwise, writing nothing. On PostgreSQL,
    /// before anything was sent, it is kept and written with the other rows
    /// kept (see [`Tx::flush`]), in their one statement; otherwise it runs now.
    pub async fn require(&mut self, update: Record) -> Result<(), sqlx::Error> {
        if self.keeps_required() {
            self.kept.records.push(Record {
                required: true,
                ..update
            });
            return Ok(());
        }
        self.flush().await?;
        let Record { sql, binds, .. } = update;
        let sql = sqlx::AssertSqlSafe(sql);
        let changed = match &mut self.conn {
            Conn::Sqlite(c) => bind_all(sqlx::query(sql), binds.into_iter())
                .execute(&mut **c)
                .await?
                .rows_affected(),
            Conn::Postgres(c) => bind_all(sqlx::query(sql), binds.into_iter())
                .execute(&mut **c)
                .await?
                .rows_affected(),
        };
        match changed {
            0 => Err(sqlx::Error::RowNotFound),
            _ => Ok(()),
        }
    }

    /// The number of the transaction's next outbox event (1, 2, …): on
    /// PostgreSQL, where each transaction numbers its own events, it orders
    /// them (see `events::feed`).
    pub fn next_event_seq(&mut self) -> i64 {
        self.kept.events += 1;
        self.kept.events
    }

    /// Makes the transaction ready for a statement: opens it (it may not be:
    /// see `pg_tx` and `writer`) and writes the rows it holds.
    pub async fn flush(&mut self) -> Result<(), sqlx::Error> {
        match &mut self.conn {
            Conn::Postgres(c) => c.open().await?,
            // The rows kept, if any, carry the SQLite transaction's start.
            Conn::Sqlite(_) => {}
        }
        self.write_kept().await?;
        match &mut self.conn {
            Conn::Sqlite(c) => c.open().await,
            Conn::Postgres(_) => Ok(()),
        }
    }

    /// Writes the rows held at the commit. On PostgreSQL a transaction that
    /// has sent nothing yet and whose rows fit one round trip writes them as
    /// one statement, atomic by itself: no `BEGIN`, no `COMMIT`.
    pub(super) async fn flush_for_commit(&mut self) -> Result<(), sqlx::Error> {
        if self.kept.records.len() > PER_ROUND_TRIP {
            return self.flush().await;
        }
        self.write_kept().await
    }

    /// Writes the rows the transaction holds (nothing when it holds none).
    async fn write_kept(&mut self) -> Result<(), sqlx::Error> {
        while !self.kept.records.is_empty() {
            let rest = self
                .kept
                .records
                .split_off(self.kept.records.len().min(PER_ROUND_TRIP));
            let batch = std::mem::replace(&mut self.kept.records, rest);
            let sql = combined(&batch, self.is_sqlite());
            let required = batch.iter().any(|r| r.required);
            let binds = batch.into_iter().flat_map(|r| r.binds);
            match &mut self.conn {
                Conn::Sqlite(c) => {
                    // The transaction's start, when nothing has carried it yet.
                    let sql = match c.take_begin() {
                        Some(begin) => format!("{begin};\n{sql}"),
                        None => sql,
                    };
                    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
                        .execute(&mut **c)
                        .await?;
                }
                Conn::Postgres(c) => {
                    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
                        .execute(&mut **c)
                        .await
                        .map_err(|err| match required && is_division_by_zero(&err) {
                            true => sqlx::Error::RowNotFound,
                            false => err,
                        })?;
                }
            }
        }
        Ok(())
    }
}

/// The records as one query: SQLite runs consecutive statements of one
/// query in order; PostgreSQL takes one statement, so all but the last
/// become data-modifying `WITH` clauses. Placeholders are renumbered to
/// follow each other.
///
/// With required updates (PostgreSQL only, see [`Tx::require`]) every
/// record is a clause, and the statement ends by dividing by the number of
/// rows each required update changed: none, and the division fails, and
/// with it the whole statement, so nothing is written.
fn combined(records: &[Record], sqlite: bool) -> String {
    let mut offset = 0;
    let mut statements: Vec<String> = records
        .iter()
        .map(|r| {
            let sql = renumbered(&r.sql, offset);
            offset += r.binds.len();
            match r.required {
                true => format!("{sql} RETURNING 1"),
                false => sql,
            }
        })
        .collect();
    let required: Vec<String> = (records.iter().enumerate())
        .filter(|(_, r)| r.required)
        .map(|(i, _)| format!("(SELECT COUNT(*) FROM kept_{i})"))
        .collect();
    if !sqlite && !required.is_empty() {
        statements.push(format!("SELECT 1 / ({})", required.join(" * ")));
    }
    if sqlite || statements.len() == 1 {
        return statements.join(";\n");
    }
    let (last, first) = statements.split_last().expect("at least one record");
    let clauses: Vec<String> = first
        .iter()
        .enumerate()
        .map(|(i, sql)| format!("kept_{i} AS ({sql})"))
        .collect();
    format!("WITH {}\n{last}", clauses.join(",\n"))
}

/// PostgreSQL's `division_by_zero`: the end of a statement whose required
/// update changed no row (see [`combined`]).
fn is_division_by_zero(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.code().as_deref() == Some("22012"))
}

/// `sql` with every placeholder `$k` written `$(k + offset)`. Kept rows'
/// statements are the crate's own `INSERT`s, with no `$` in any literal.
fn renumbered(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(k) => out.push_str(&(k + offset).to_string()),
            Err(_) => out.push_str(&digits),
        }
    }
    out
}

fn bind_all<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    binds: impl Iterator<Item = Bind>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Uuid>: sqlx::Encode<'q, DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<DateTime<Utc>>: sqlx::Encode<'q, DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB>,
    sqlx::types::Json<Value>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for bind in binds {
        query = match bind {
            Bind::Uuid(v) => query.bind(v),
            Bind::OptionalUuid(v) => query.bind(v),
            Bind::Time(v) => query.bind(v),
            Bind::OptionalTime(v) => query.bind(v),
            Bind::Text(v) => query.bind(v),
            Bind::OptionalText(v) => query.bind(v),
            Bind::Int(v) => query.bind(v),
            Bind::OptionalInt(v) => query.bind(v),
            Bind::Json(v) => query.bind(sqlx::types::Json(v)),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sql: &str, n: usize) -> Record {
        Record::new(sql, (0..n as i64).map(Bind::Int).collect())
    }

    #[test]
    fn placeholders_follow_each_other_across_records() {
        let records = [
            record("INSERT INTO a VALUES ($1, $2)", 2),
            record("INSERT INTO b VALUES ($2, $1, $3)", 3),
        ];
        assert_eq!(
            combined(&records, true),
            "INSERT INTO a VALUES ($1, $2);\nINSERT INTO b VALUES ($4, $3, $5)"
        );
        assert_eq!(
            combined(&records, false),
            "WITH kept_0 AS (INSERT INTO a VALUES ($1, $2))\nINSERT INTO b VALUES ($4, $3, $5)"
        );
    }

    #[test]
    fn a_required_update_ends_the_statement_with_a_division_by_its_count() {
        let records = [
            Record {
                required: true,
                ..record("UPDATE m SET b = $1 WHERE b = $2", 2)
            },
            record("INSERT INTO a VALUES ($1)", 1),
        ];
        assert_eq!(
            combined(&records, false),
            "WITH kept_0 AS (UPDATE m SET b = $1 WHERE b = $2 RETURNING 1),\n\
             kept_1 AS (INSERT INTO a VALUES ($3))\n\
             SELECT 1 / ((SELECT COUNT(*) FROM kept_0))"
        );
    }

    #[test]
    fn one_record_is_its_own_statement_on_both_engines() {
        let records = [record("INSERT INTO a VALUES ($1)", 1)];
        assert_eq!(combined(&records, false), "INSERT INTO a VALUES ($1)");
        assert_eq!(combined(&records, true), "INSERT INTO a VALUES ($1)");
        assert_eq!(renumbered("$10, $9", 1), "$11, $10");
    }
}
