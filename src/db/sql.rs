//! A small builder for queries whose WHERE clause depends on the request
//! (list filters). Values are always bound, never interpolated: `arg` returns
//! the next `$n` placeholder. `bind_args!` binds the collected values to a
//! query inside an engine arm, where the concrete database type is known.

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Clone, Debug)]
pub enum Arg {
    Uuid(Uuid),
    Text(String),
    Time(DateTime<Utc>),
    Bool(bool),
    Int(i64),
}

#[derive(Debug, Default)]
pub struct Filters {
    clauses: Vec<String>,
    pub args: Vec<Arg>,
}

impl Filters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a value and returns its placeholder.
    pub fn arg(&mut self, value: Arg) -> String {
        self.args.push(value);
        format!("${}", self.args.len())
    }

    /// Adds a condition; `{}` in `clause` is replaced by the value's placeholder.
    pub fn when(&mut self, clause: &str, value: Arg) -> &mut Self {
        let placeholder = self.arg(value);
        self.clauses.push(clause.replace("{}", &placeholder));
        self
    }

    /// Adds a condition with no value.
    pub fn always(&mut self, clause: &str) -> &mut Self {
        self.clauses.push(clause.to_string());
        self
    }

    /// Adds "one of `columns` starts with `prefix`", as range conditions an
    /// index can serve on both engines (LIKE 'x%' uses an index on neither
    /// PostgreSQL with a non-C collation nor SQLite with a case-sensitive column).
    /// Columns must hold lowercase text; `prefix` is lowercased here.
    pub fn starts_with_any(&mut self, columns: &[&str], prefix: &str) -> &mut Self {
        let low = prefix.to_lowercase();
        let high = format!("{low}\u{10FFFF}");
        let lo = self.arg(Arg::Text(low));
        let hi = self.arg(Arg::Text(high));
        let alternatives: Vec<String> = columns
            .iter()
            .map(|c| format!("({c} >= {lo} AND {c} < {hi})"))
            .collect();
        self.clauses
            .push(format!("({})", alternatives.join(" OR ")));
        self
    }

    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// Binds every `Arg` in order to a `sqlx` query (use inside an engine arm).
#[macro_export]
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args.iter() {
            query = match arg {
                $crate::db::sql::Arg::Uuid(v) => query.bind(*v),
                $crate::db::sql::Arg::Text(v) => query.bind(v.clone()),
                $crate::db::sql::Arg::Time(v) => query.bind(*v),
                $crate::db::sql::Arg::Bool(v) => query.bind(*v),
                $crate::db::sql::Arg::Int(v) => query.bind(*v),
            };
        }
        query
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut f = Filters::new();
        f.always("deleted_at IS NULL")
            .when("owner_id = {}", Arg::Int(1))
            .when("(a, id) > ({}, $9)", Arg::Int(2));
        assert_eq!(
            f.where_sql(),
            "WHERE deleted_at IS NULL AND owner_id = $1 AND (a, id) > ($2, $9)"
        );
        assert_eq!(f.args.len(), 2);
    }

    #[test]
    fn prefixes_become_ranges() {
        let mut f = Filters::new();
        f.starts_with_any(&["a.name_key", "a.domain"], "Ac");
        assert_eq!(
            f.where_sql(),
            "WHERE ((a.name_key >= $1 AND a.name_key < $2) OR (a.domain >= $1 AND a.domain < $2))"
        );
        assert!(matches!(&f.args[0], Arg::Text(t) if t == "ac"));
        let Arg::Text(high) = &f.args[1] else {
            panic!()
        };
        assert!("acme" < high.as_str() && "ad" > high.as_str());
    }
}

/// One keyset page of a list, plus one row (so the caller knows whether
/// another page follows): `{select} WHERE {filters} ORDER BY {sort, id}
/// LIMIT limit + 1`, starting after `cursor`. `select` is `SELECT … FROM
/// table alias`; `id_column` breaks ties (`a.id`).
///
/// The row count is written in the SQL, not bound: PostgreSQL plans a
/// prepared statement afresh on every run while its generic plan costs more
/// than the custom ones, and a bound `LIMIT` makes the generic plan look
/// like it reads a tenth of the table. Written in, the generic plan is
/// chosen after five runs and reused: a contact's timeline at 1,000,000
/// interactions took 1.3–1.6 ms a run, 0.3 ms once planned once.
pub async fn keyset_page<R>(
    db: &super::Db,
    select: &str,
    mut filters: Filters,
    sort: &crate::http::pagination::Sort,
    cursor: Option<crate::http::pagination::KeysetCursor>,
    id_column: &str,
    limit: i64,
) -> Result<Vec<R>, crate::http::ApiError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let order = sort.keyset(&mut filters, cursor, id_column)?;
    let sql = format!(
        "{select} {} {order} LIMIT {}",
        filters.where_sql(),
        limit + 1
    );
    Ok(
        crate::on_db!(db, pool => crate::bind_args!(sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql)), filters.args)
        .fetch_all(pool).await)?,
    )
}

/// How many rows of `from` (`FROM table alias`) the filters match.
pub async fn count(
    db: &super::Db,
    from: &str,
    filters: &Filters,
) -> Result<i64, crate::http::ApiError> {
    let sql = format!("SELECT COUNT(*) {from} {}", filters.where_sql());
    Ok(
        crate::on_db!(db, pool => crate::bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)), filters.args)
        .fetch_one(pool).await)?,
    )
}
