//! A WHERE clause built from the filters a caller actually sent, so each list
//! query names only the columns it filters on and the database can use the
//! matching `(column, occurred_at, id)` index (a `($1 IS NULL OR col = $1)`
//! chain would hide that from the planner once the statement is cached).
//!
//! Only code constants are interpolated; every value is a bound argument.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One bound value.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Uuid(Uuid),
    Text(&'static str),
    Time(DateTime<Utc>),
    Int(i64),
}

#[derive(Debug, Default)]
pub struct Where {
    conditions: Vec<String>,
    pub args: Vec<Arg>,
}

impl Where {
    /// Binds `arg` and returns its placeholder (`$n`).
    pub fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Adds `column <op> <arg>`; `column` and `op` are code constants.
    pub fn push(&mut self, column: &'static str, op: &'static str, arg: Arg) {
        let p = self.bind(arg);
        self.conditions.push(format!("{column} {op} {p}"));
    }

    /// Adds a condition written by the caller with placeholders it got from [`Where::bind`].
    pub fn push_raw(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// `WHERE a AND b …`, or nothing.
    pub fn sql(&self) -> String {
        if self.conditions.is_empty() { String::new() } else { format!("WHERE {}", self.conditions.join(" AND ")) }
    }
}

/// Binds every [`Arg`] of a [`Where`] to a `sqlx` query, in order. A macro so
/// that it expands inside each engine's arm of `on_db!`.
#[macro_export]
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                $crate::interactions::filter::Arg::Uuid(v) => query.bind(*v),
                $crate::interactions::filter::Arg::Text(v) => query.bind(*v),
                $crate::interactions::filter::Arg::Time(v) => query.bind(*v),
                $crate::interactions::filter::Arg::Int(v) => query.bind(*v),
            };
        }
        query
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_arguments() {
        let mut w = Where::default();
        assert_eq!(w.sql(), "");
        w.push("contact_id", "=", Arg::Uuid(Uuid::nil()));
        w.push("direction", "=", Arg::Text("inbound"));
        let (a, b) = (w.bind(Arg::Int(1)), w.bind(Arg::Int(2)));
        w.push_raw(format!("(occurred_at, id) < ({a}, {b})"));
        assert_eq!(w.sql(), "WHERE contact_id = $1 AND direction = $2 AND (occurred_at, id) < ($3, $4)");
        assert_eq!(w.args.len(), 4);
    }
}
