//! SQL for the feedback list: its filters, its sorts and keyset pages.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    model::{COLUMNS, FeedbackRow},
    service_levels::{Priority, SlaState},
    sla_state::{sla_state_condition, sla_state_sql},
    workflow::{FeedbackKind, FeedbackStatus},
};
use crate::{
    db::{
        Db, now,
        sql::{self, Arg, Filters},
    },
    http::{
        ApiError,
        pagination::{KeysetCursor, Sort, SortKind},
    },
};

pub const SORTS: [(&str, &str, SortKind); 2] = [
    ("received_at", "f.received_at", SortKind::Time),
    ("updated_at", "f.updated_at", SortKind::Time),
];

/// List filters, already parsed.
#[derive(Debug, Default, Clone)]
pub struct FeedbackQuery {
    pub kind: Option<FeedbackKind>,
    pub status: Option<FeedbackStatus>,
    pub priority: Option<Priority>,
    pub sla_state: Option<SlaState>,
    pub category: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub async fn list(
    db: &Db,
    q: &FeedbackQuery,
    sort: &Sort,
    cursor: Option<KeysetCursor>,
    limit: i64,
) -> Result<Vec<FeedbackRow>, ApiError> {
    let mut f = Filters::new();
    let now = f.arg(Arg::Time(now()));
    let sla = sla_state_sql(&now);
    if let Some(v) = q.kind {
        f.when("f.kind = {}", Arg::Text(v.as_str().into()));
    }
    if let Some(v) = q.status {
        f.when("f.status = {}", Arg::Text(v.as_str().into()));
    }
    if let Some(v) = q.priority {
        f.when("f.priority = {}", Arg::Text(v.as_str().into()));
    }
    if let Some(state) = q.sla_state {
        f.always(&sla_state_condition(state, &now));
    }
    if let Some(v) = &q.category {
        f.when("f.category = {}", Arg::Text(v.trim().to_lowercase()));
    }
    for (column, value) in [
        ("f.assignee_id", q.assignee_id),
        ("f.contact_id", q.contact_id),
        ("f.account_id", q.account_id),
        ("f.channel_id", q.channel_id),
        ("f.engagement_id", q.engagement_id),
    ] {
        if let Some(v) = value {
            f.when(&format!("{column} = {{}}"), Arg::Uuid(v));
        }
    }
    if let Some(v) = q.from {
        f.when("f.received_at >= {}", Arg::Time(v));
    }
    if let Some(v) = q.to {
        f.when("f.received_at < {}", Arg::Time(v));
    }
    let select = format!("SELECT {COLUMNS}, {sla} AS sla_state FROM feedback f");
    sql::keyset_page(db, &select, f, sort, cursor, "f.id", limit).await
}

/// The sort value of a row, as a cursor key.
pub fn sort_key(sort: &Sort, row: &FeedbackRow) -> KeysetCursor {
    use crate::http::pagination::time_key;
    let key = match sort.field {
        "updated_at" => time_key(&row.updated_at),
        _ => time_key(&row.received_at),
    };
    sort.cursor_for(key, row.id)
}
