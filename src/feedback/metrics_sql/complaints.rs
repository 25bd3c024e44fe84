//! Complaint volume, rate, resolution, reopening and first-contact resolution.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Dimension, GroupKey, Keys, add_up_parts, calendar};
use crate::{
    db::{Db, split::OnPostgres},
    dialect,
    http::ApiError,
    on_db,
};

#[derive(Debug, Default, sqlx::FromRow)]
pub struct ComplaintRow {
    #[sqlx(flatten)]
    pub key: GroupKey,
    /// Feedback items of every kind in the group.
    pub items: i64,
    pub received: i64,
    pub resolved: i64,
    pub reopened: i64,
    pub open: i64,
    pub first_contact_resolved: i64,
}

impl ComplaintRow {
    /// The rows' counts added together, under no key: the figures of everything they count.
    pub fn total<'a>(rows: impl IntoIterator<Item = &'a ComplaintRow>) -> ComplaintRow {
        rows.into_iter()
            .fold(ComplaintRow::default(), |mut sum, row| {
                sum.add(row);
                sum
            })
    }

    /// Adds another row's counts to this one's (the key stays).
    fn add(&mut self, other: &ComplaintRow) {
        self.items += other.items;
        self.received += other.received;
        self.resolved += other.resolved;
        self.reopened += other.reopened;
        self.open += other.open;
        self.first_contact_resolved += other.first_contact_resolved;
    }
}

/// Feedback items of every kind per group.
#[derive(Debug, sqlx::FromRow)]
struct ItemCount {
    #[sqlx(flatten)]
    key: GroupKey,
    items: i64,
}

/// Per group of the feedback received in `[from, to)`: all items, and the complaints among them by state. The
/// state is the current one; a reopen is `reopen_count > 0`; a wait on the customer is a `transition` activity
/// to `waiting_on_customer` in the item's log. Every group with items has a row, with or without complaints.
///
/// Two queries, side by side: the complaints are read from `feedback_service_levels`, which holds every column
/// they need (on SQLite named, as its planner prefers the narrower `feedback_kind` and a table row per
/// complaint), and the items of every kind are counted apart, which an overall count reads from an index
/// alone. One query over every item read a table row per item (1,000,000 items over a year: 438 → 142 ms on
/// SQLite, 442 → 174 ms on PostgreSQL).
pub async fn complaints(
    db: &Db,
    dim: Dimension,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ComplaintRow>, ApiError> {
    let keys = dim.keys(calendar(db), false);
    let done = "f.status IN ('resolved', 'closed')";
    let sum = |cond: &str| format!("COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0)");
    let waited = "EXISTS (SELECT 1 FROM feedback_activities fa WHERE fa.feedback_id = f.id \
                  AND fa.kind = 'transition' AND fa.to_status = 'waiting_on_customer')";
    let feedback = dialect!(db,
        sqlite: "feedback f INDEXED BY feedback_service_levels",
        postgres: "feedback f",
    );
    let complaints_sql = keys.labelled(&format!(
        "SELECT {},
            CAST(0 AS BIGINT) AS items,
            COUNT(*) AS received,
            {} AS resolved,
            {} AS reopened,
            {} AS open,
            {} AS first_contact_resolved
         FROM {feedback} {}
         WHERE f.kind = 'complaint' AND f.status IS NOT NULL AND f.received_at >= $1 AND f.received_at < $2
         {}",
        keys.select,
        sum(done),
        sum("f.reopen_count > 0"),
        sum(&format!("NOT {done}")),
        sum(&format!("{done} AND f.reopen_count = 0 AND NOT {waited}")),
        keys.joins,
        keys.group,
    ));
    let items_sql = keys.labelled(&match (db.is_sqlite(), dim.indexed_column()) {
        (true, Some(column)) => items_per_key(column, &keys),
        _ => format!(
            "SELECT {}, COUNT(*) AS items FROM feedback f {}
             WHERE f.received_at >= $1 AND f.received_at < $2 {}",
            keys.select, keys.joins, keys.group,
        ),
    });
    // Both are counts, so on SQLite each runs as two halves of the period side by side; PostgreSQL gives the
    // items' query parallel workers, but not the complaints' (its EXISTS is a subplan), so that one is split
    // there too. The answer keeps the items' order, which on PostgreSQL is its own (text by its collation).
    let (complaints_sql, items_sql) = (complaints_sql.as_str(), items_sql.as_str());
    let (complaints, items) = futures_util::future::try_join(
        db.parts_side_by_side(from, to, OnPostgres::Serial, |from, to| async move {
            Ok::<Vec<ComplaintRow>, ApiError>(
                on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(complaints_sql))
                .bind(from).bind(to).fetch_all(pool).await)?,
            )
        }),
        db.parts_side_by_side(from, to, OnPostgres::Parallel, |from, to| async move {
            Ok::<Vec<ItemCount>, ApiError>(
                on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(items_sql))
                .bind(from).bind(to).fetch_all(pool).await)?,
            )
        }),
    )
    .await?;
    let complaints = add_up_parts(complaints, |row| &row.key, ComplaintRow::add);
    let items = add_up_parts(
        items,
        |count| &count.key,
        |sum, count| sum.items += count.items,
    );
    let mut complaints: HashMap<GroupKey, ComplaintRow> = complaints
        .into_iter()
        .map(|row| (row.key.clone(), row))
        .collect();
    // In the items' order; every complaint is an item, so every complaint group has an items row.
    Ok(items
        .into_iter()
        .map(|count| {
            let mut row = complaints
                .remove(&count.key)
                .unwrap_or_else(|| ComplaintRow {
                    key: count.key,
                    ..ComplaintRow::default()
                });
            row.items = count.items;
            row
        })
        .collect())
}

/// The items of the period per value of `column` on SQLite, whose `GROUP BY` sorts every item of the period
/// (757 ms for a year of 1,000,000 items by channel). An index leads with `column` and `received_at`, so the
/// values are found one after the other (each the smallest above the last, one seek), and each value's items
/// of the period are one range of that index, counted without reading a row (183 ms). Items without a value
/// are one more range; values without items in the period are left out, as a `GROUP BY` would.
fn items_per_key(column: &str, keys: &Keys) -> String {
    format!(
        "WITH RECURSIVE k(v) AS (
            SELECT MIN(x.{column}) FROM feedback x
            UNION ALL
            SELECT (SELECT MIN(x.{column}) FROM feedback x WHERE x.{column} > k.v) FROM k WHERE k.v IS NOT NULL
         )
         SELECT {}, f.items FROM (
            SELECT k.v AS {column},
                   (SELECT COUNT(*) FROM feedback x
                    WHERE x.{column} = k.v AND x.received_at >= $1 AND x.received_at < $2) AS items
            FROM k WHERE k.v IS NOT NULL
            UNION ALL
            SELECT NULL, (SELECT COUNT(*) FROM feedback x
                          WHERE x.{column} IS NULL AND x.received_at >= $1 AND x.received_at < $2)
         ) f
         WHERE f.items > 0",
        keys.select,
    )
}
