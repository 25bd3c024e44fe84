//! The task lists: filters and keyset pages.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{COLUMNS, TaskKind, TaskRow, TaskStatus};
use crate::{
    db::{
        Db,
        sql::{self, Arg, Filters},
    },
    http::{
        ApiError,
        pagination::{KeysetCursor, Sort, SortKind},
    },
};

/// `due_at` (soonest first, the default) or `-due_at`, and `created_at`.
pub const SORTS: [(&str, &str, SortKind); 2] = [
    ("due_at", "due_at", SortKind::Time),
    ("created_at", "created_at", SortKind::Time),
];

/// Filters for the task list, already validated.
#[derive(Default)]
pub struct TaskQuery {
    pub assignee_id: Option<Uuid>,
    pub status: Option<TaskStatus>,
    pub kind: Option<TaskKind>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    /// Open tasks past their deadline at this instant.
    pub overdue_at: Option<DateTime<Utc>>,
}

fn filters(q: &TaskQuery) -> Filters {
    let mut f = Filters::new();
    for (clause, value) in [
        ("assignee_id = {}", q.assignee_id),
        ("contact_id = {}", q.contact_id),
        ("account_id = {}", q.account_id),
    ] {
        if let Some(v) = value {
            f.when(clause, Arg::Uuid(v));
        }
    }
    if let Some(v) = q.status {
        f.when("status = {}", Arg::Text(v.as_str().into()));
    }
    if let Some(v) = q.kind {
        f.when("kind = {}", Arg::Text(v.as_str().into()));
    }
    if let Some(v) = q.due_before {
        f.when("due_at < {}", Arg::Time(v));
    }
    if let Some(v) = q.due_after {
        f.when("due_at >= {}", Arg::Time(v));
    }
    if let Some(v) = q.overdue_at {
        f.always("status = 'open'")
            .when("due_at < {}", Arg::Time(v));
    }
    f
}

pub async fn list(
    db: &Db,
    q: &TaskQuery,
    sort: &Sort,
    cursor: Option<KeysetCursor>,
    limit: i64,
) -> Result<Vec<TaskRow>, ApiError> {
    let select = format!("SELECT {COLUMNS} FROM tasks");
    sql::keyset_page(db, &select, filters(q), sort, cursor, "id", limit).await
}

pub async fn count(db: &Db, q: &TaskQuery) -> Result<i64, ApiError> {
    sql::count(db, "FROM tasks", &filters(q)).await
}
