//! The feedback module's events, and the job that emits the service-level
//! ones: an item's state moves to `at_risk` or `breached` with the clock, not
//! with a write, so a scheduled job notices it and emits each event once.

use uuid::Uuid;

use super::{repo, sla_state::sla_state_sql};
use crate::{
    audit::Actor,
    auth::Area,
    db::{Db, now},
    events::{self, EventType},
    http::ApiError,
    on_db, on_tx,
};

const AREA: Area = Area::Feedback;

pub const CREATED: EventType = EventType::new(
    "feedback.created",
    AREA,
    "An item of feedback was received; data is the item.",
);
pub const UPDATED: EventType = EventType::new(
    "feedback.updated",
    AREA,
    "An item's fields changed (not its status); data is the item.",
);
pub const DELETED: EventType = EventType::new(
    "feedback.deleted",
    AREA,
    "An item was deleted; data holds its id.",
);
pub const STATUS_CHANGED: EventType = EventType::new(
    "feedback.status_changed",
    AREA,
    "A complaint or inquiry moved in its workflow; data is the item.",
);
pub const SLA_AT_RISK: EventType = EventType::new(
    "feedback.sla_at_risk",
    AREA,
    "Less than a fifth of an item's first-response or resolution window is left; emitted once, by the clock.",
);
pub const SLA_BREACHED: EventType = EventType::new(
    "feedback.sla_breached",
    AREA,
    "An item missed its first-response or resolution due time; emitted once, by the clock (an item that went \
     straight to breached gets no sla_at_risk).",
);

pub const EVENTS: [EventType; 6] = [
    CREATED,
    UPDATED,
    DELETED,
    STATUS_CHANGED,
    SLA_AT_RISK,
    SLA_BREACHED,
];

/// Items per run.
const BATCH: i64 = 200;

/// Emits the service-level events that are due; each item's event once,
/// whichever node gets there first (the `*_emitted_at` guard). Only open
/// items are watched (index `feedback_sla_watch`): an item resolved after its
/// due time while no node was running gets no `sla_breached`.
pub async fn emit_due(db: &Db) -> Result<usize, ApiError> {
    let now = now();
    let sql = format!(
        "SELECT f.id, {state} AS state FROM feedback f
         WHERE f.status IS NOT NULL AND f.resolved_at IS NULL AND f.sla_breached_emitted_at IS NULL
           AND ({state} = 'breached' OR ({state} = 'at_risk' AND f.sla_at_risk_emitted_at IS NULL))
         LIMIT $2",
        state = sla_state_sql("$1")
    );
    let due: Vec<(Uuid, String)> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(now).bind(BATCH).fetch_all(pool).await)?;
    let mut emitted = 0;
    for (id, state) in due {
        let breached = state == "breached";
        let mut tx = db.begin().await?;
        let claim = if breached {
            "UPDATE feedback SET sla_breached_emitted_at = $1,
                    sla_at_risk_emitted_at = COALESCE(sla_at_risk_emitted_at, $1)
             WHERE id = $2 AND sla_breached_emitted_at IS NULL"
        } else {
            "UPDATE feedback SET sla_at_risk_emitted_at = $1 WHERE id = $2 AND sla_at_risk_emitted_at IS NULL"
        };
        let won = on_tx!(&mut tx, c => sqlx::query(claim).bind(now).bind(id)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if won == 0 {
            continue;
        }
        let item = repo::get(&mut tx, id, now).await?.into_feedback();
        let kind = if breached {
            &SLA_BREACHED
        } else {
            &SLA_AT_RISK
        };
        events::record(&mut tx, &Actor::system(), kind, item.contact_id, &item).await?;
        // Once per item: this transaction is the one that marked it at risk (or breached straight away).
        crate::tasks::rules::complaint_at_risk(&mut tx, &item).await?;
        tx.commit().await?;
        emitted += 1;
    }
    Ok(emitted)
}
