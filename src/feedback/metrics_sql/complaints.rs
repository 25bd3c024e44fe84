//! Complaint volume, rate, resolution, reopening and first-contact resolution.

use chrono::{DateTime, Utc};

use super::{Dimension, GroupKey, calendar};
use crate::{db::Db, http::ApiError, on_db};

#[derive(Debug, sqlx::FromRow)]
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

/// Per group of the feedback received in `[$1, $2)`: all items, and the complaints among them by state. The
/// state is the current one; a reopen is `reopen_count > 0`; a wait on the customer is a `transition` activity
/// to `waiting_on_customer` in the item's log. With `having_complaints`, groups without a complaint are left out.
pub async fn complaints(
    db: &Db,
    dim: Dimension,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    having_complaints: bool,
) -> Result<Vec<ComplaintRow>, ApiError> {
    let keys = dim.keys(calendar(db), false);
    let complaint = "f.kind = 'complaint'";
    let done = "f.status IN ('resolved', 'closed')";
    let sum = |cond: &str| {
        format!("COALESCE(SUM(CASE WHEN {complaint} AND {cond} THEN 1 ELSE 0 END), 0)")
    };
    let waited = "EXISTS (SELECT 1 FROM feedback_activities fa WHERE fa.feedback_id = f.id \
                  AND fa.kind = 'transition' AND fa.to_status = 'waiting_on_customer')";
    let having = if having_complaints && !keys.group.is_empty() {
        format!("HAVING {} > 0", sum("1 = 1"))
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {},
            COUNT(*) AS items,
            {} AS received,
            {} AS resolved,
            {} AS reopened,
            {} AS open,
            {} AS first_contact_resolved
         FROM feedback f {}
         WHERE f.received_at >= $1 AND f.received_at < $2
         {} {having} {}",
        keys.select,
        sum("1 = 1"),
        sum(done),
        sum("f.reopen_count > 0"),
        sum(&format!("NOT {done}")),
        sum(&format!("{done} AND f.reopen_count = 0 AND NOT {waited}")),
        keys.joins,
        keys.group,
        keys.order,
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(from).bind(to).fetch_all(pool).await)?)
}
