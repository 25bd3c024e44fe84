//! A member's lots: where a debit takes its points from, and the record of
//! what it took.

use actix_web::http::header;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    db::{
        Tx,
        records::{Bind, Record},
    },
    http::ApiError,
    loyalty::ledger::LotMovement,
    on_tx,
};

#[derive(sqlx::FromRow)]
struct OpenLot {
    id: Uuid,
    remaining: i64,
    expires_at: Option<DateTime<Utc>>,
}

/// Where a debit takes its points from, in order: the lot it prefers, then
/// the lots that expire (soonest first), then those that never do (oldest
/// first). Each half of the second query reads a range of the open-lots
/// index in its own order, so a member's thousands of small lots cost a
/// debit no sort: only the `{rows}` rows of each half are ordered together.
/// The batch size is written in, not bound (see `db::sql::keyset_page`):
/// PostgreSQL then plans each size once, not every read under the lock.
/// (The undated half orders by `expires_at` too, all nulls: PostgreSQL
/// follows an index's order only when the `ORDER BY` names its columns.)
const LOT_SOURCES: [&str; 2] = [
    "SELECT id, remaining, expires_at FROM loyalty_lots WHERE member_id = $1 AND remaining > 0 AND id = $2",
    "SELECT id, remaining, expires_at, created_at, 0 AS undated FROM (
         SELECT id, remaining, expires_at, created_at FROM loyalty_lots
         WHERE member_id = $1 AND remaining > 0 AND expires_at IS NOT NULL
         ORDER BY expires_at, created_at, id LIMIT {rows}) AS dated
     UNION ALL
     SELECT id, remaining, expires_at, created_at, 1 AS undated FROM (
         SELECT id, remaining, expires_at, created_at FROM loyalty_lots
         WHERE member_id = $1 AND remaining > 0 AND expires_at IS NULL
         ORDER BY expires_at, created_at, id LIMIT {rows}) AS undated
     ORDER BY undated, expires_at, created_at, id",
];

pub(super) async fn take_from_lots(
    tx: &mut Tx,
    member_id: Uuid,
    points: i64,
    prefer: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<LotMovement>, ApiError> {
    let mut needed = points;
    let mut moved = Vec::new();
    for (source, sql) in LOT_SOURCES.iter().enumerate() {
        let preferred = match (source, prefer) {
            (0, None) => continue,
            (0, Some(id)) => Some(id),
            _ => None,
        };
        // Most debits are covered by the first lot or two: a few lots are
        // read at first, more as the debit needs them, rather than 64 rows
        // each time for a member who holds thousands of small lots.
        let mut batch_size: i64 = 4;
        while needed > 0 {
            // Used-up lots drop out of `remaining > 0`, so each batch starts
            // where the previous one ended.
            let sql = sql.replace("{rows}", &batch_size.to_string());
            let batch: Vec<OpenLot> = on_tx!(tx, c => {
                let query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(member_id);
                match preferred {
                    Some(id) => query.bind(id),
                    None => query,
                }
                .fetch_all(&mut **c)
                .await
            })?;
            batch_size = (batch_size * 4).min(256);
            if batch.is_empty() {
                break;
            }
            for lot in batch {
                if lot.expires_at.is_some_and(|at| at <= now) {
                    return Err(expired_meanwhile());
                }
                let take = lot.remaining.min(needed);
                take_from_lot(tx, &lot, take).await?;
                moved.push(LotMovement {
                    lot_id: lot.id,
                    points: take,
                    expires_at: lot.expires_at,
                });
                needed -= take;
                if needed == 0 {
                    break;
                }
            }
        }
    }
    if needed > 0 {
        return Err(ApiError::internal(format!(
            "loyalty member {member_id}: the balance covers {points} points but the open lots lack {needed}"
        )));
    }
    Ok(moved)
}

/// A debit met a lot already past its expiry date: one that a concurrent
/// merge or reversal gave this member after the write checked for due lots
/// and before it took the lock. Nothing is written, and the answer is a 503
/// so that the idempotency layer does not keep it: the retry, with the same
/// key, expires the lot first.
fn expired_meanwhile() -> ApiError {
    ApiError::service_unavailable(
        "Some of this member's points reached their expiry date while the request ran: nothing was written. \
         Retry the request (with the same Idempotency-Key).",
    )
    .with_header(header::RETRY_AFTER, "1")
}

async fn take_from_lot(tx: &mut Tx, lot: &OpenLot, points: i64) -> Result<(), ApiError> {
    let done = on_tx!(tx, c => sqlx::query(
        "UPDATE loyalty_lots SET remaining = remaining - $1 WHERE id = $2 AND remaining >= $1"
    ).bind(points).bind(lot.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(ApiError::internal(format!(
            "loyalty lot {} changed under a member lock",
            lot.id
        )));
    }
    Ok(())
}

/// The row recording that `entry_id` took `points` from `lot_id`, kept for
/// the transaction's next round trip.
pub(super) fn lot_use(entry_id: Uuid, lot_id: Uuid, points: i64) -> Record {
    Record::new(
        "INSERT INTO loyalty_lot_uses (entry_id, lot_id, points) VALUES ($1, $2, $3)",
        vec![Bind::Uuid(entry_id), Bind::Uuid(lot_id), Bind::Int(points)],
    )
}
