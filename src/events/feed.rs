//! The changes feed: events in commit order, each handed out exactly once to
//! a reader who keeps passing back the cursor.
//!
//! An event's place is `(tx_id, seq)`. PostgreSQL assigns transaction ids
//! when transactions start writing, not when they commit, so a long
//! transaction can commit events *below* ones already read. The feed
//! therefore stops at the horizon `pg_snapshot_xmin(pg_current_snapshot())`:
//! every transaction below it has finished, so nothing can appear below a
//! cursor once it has been handed out. SQLite's single writer commits in
//! `seq` order, and its readers only see committed rows.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use crate::{
    bind_args,
    db::{
        Db, On, Tx,
        sql::{Arg, Filters},
    },
    dialect,
    http::ApiError,
    on, on_db, on_tx,
};

/// A place in the feed: after the event at `(tx_id, seq)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub tx_id: i64,
    pub seq: i64,
}

impl Position {
    /// Before every event.
    pub const START: Position = Position { tx_id: -1, seq: 0 };

    pub fn cursor(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("e1.{}.{}", self.tx_id, self.seq))
    }

    pub fn parse(cursor: &str) -> Result<Position, ApiError> {
        let bad = || {
            ApiError::bad_request(format!(
                "after={cursor} is not a cursor of this feed: pass back a `next_cursor` exactly as you received it."
            ))
        };
        let text = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
        let text = String::from_utf8(text).map_err(|_| bad())?;
        let mut parts = text.split('.');
        let (Some("e1"), Some(tx_id), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(Position {
            tx_id: tx_id.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

/// One stored event.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredEvent {
    pub tx_id: i64,
    pub seq: i64,
    pub id: Uuid,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub area: String,
    pub occurred_at: DateTime<Utc>,
    pub data: Json<Value>,
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
}

impl StoredEvent {
    pub fn position(&self) -> Position {
        Position {
            tx_id: self.tx_id,
            seq: self.seq,
        }
    }
}

/// The condition that keeps a read below the horizon of running
/// transactions (see the module's comment), per engine.
const COMMITTED_SQLITE: &str = "1 = 1";
const COMMITTED_POSTGRES: &str = "tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

const COLUMNS: &str = "tx_id, seq, id, type, area, occurred_at, data, actor_type, actor_id";

/// Which events a reader gets.
pub struct Selection<'a> {
    /// Only the areas the reader may read; `None` for every area.
    pub areas: Option<&'a [&'static str]>,
    /// Only these types, when given.
    pub types: Option<&'a [String]>,
}

impl Selection<'_> {
    /// Every event (the webhook dispatcher's read).
    pub const ALL: Selection<'static> = Selection {
        areas: None,
        types: None,
    };
}

/// Up to `limit` committed events after `after`, in feed order: on the read
/// pool for the feed, inside the dispatcher's transaction for webhooks.
pub async fn after<'a>(
    on: impl Into<On<'a>>,
    after: Position,
    selection: &Selection<'_>,
    limit: i64,
) -> Result<Vec<StoredEvent>, ApiError> {
    let on = on.into();
    let mut filters = Filters::new();
    let tx_id = filters.arg(Arg::Int(after.tx_id));
    let seq = filters.arg(Arg::Int(after.seq));
    filters.always(&format!("(tx_id, seq) > ({tx_id}, {seq})"));
    filters.always(dialect!(on, sqlite: COMMITTED_SQLITE, postgres: COMMITTED_POSTGRES));
    if let Some(areas) = selection.areas {
        any_of(&mut filters, "area", areas.iter().map(|a| a.to_string()));
    }
    if let Some(types) = selection.types {
        any_of(&mut filters, "type", types.iter().cloned());
    }
    // Written in, not bound: see `db::sql::keyset_page`.
    let sql = format!(
        "SELECT {COLUMNS} FROM events {} ORDER BY tx_id, seq LIMIT {limit}",
        filters.where_sql()
    );
    Ok(
        on!(on, e => bind_args!(sqlx::query_as::<_, StoredEvent>(sqlx::AssertSqlSafe(sql.clone())), filters.args)
        .fetch_all(e).await)?,
    )
}

fn any_of(filters: &mut Filters, column: &str, values: impl Iterator<Item = String>) {
    let placeholders: Vec<String> = values.map(|v| filters.arg(Arg::Text(v))).collect();
    if placeholders.is_empty() {
        filters.always("1 = 0");
    } else {
        filters.always(&format!("{column} IN ({})", placeholders.join(", ")));
    }
}

/// One event by id (a webhook delivery's payload).
pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<StoredEvent>, ApiError> {
    Ok(
        on_db!(db, pool => sqlx::query_as::<_, StoredEvent>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM events WHERE id = $1"
    ))).bind(id).fetch_optional(pool).await)?,
    )
}

/// The last place pruning removed: a cursor before it has missed events.
pub async fn pruned_through(db: &Db) -> Result<Position, ApiError> {
    let (tx_id, seq): (i64, i64) = on_db!(db, pool => sqlx::query_as(
        "SELECT pruned_tx_id, pruned_seq FROM event_log WHERE id = 1"
    ).fetch_one(pool).await)?;
    Ok(Position { tx_id, seq })
}

/// Removes the events that occurred before `before` and that the webhook
/// dispatcher has already fanned out; returns how many went.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, ApiError> {
    let mut tx = db.begin().await?;
    tx.lock_rows("SELECT id FROM event_log WHERE id = 1 FOR UPDATE", None)
        .await?;
    let (dispatched_tx, dispatched_seq): (i64, i64) = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT dispatched_tx_id, dispatched_seq FROM event_log WHERE id = 1"
    ).fetch_one(&mut **c).await)?;
    // Only the events old enough are read, through their time's index. In
    // commit order, SQLite (which keeps no statistics here) walked back from
    // the dispatched position through every newer event, holding the writer:
    // 10 s at 100,000 events, with every write waiting.
    let events = dialect!(tx, sqlite: "events INDEXED BY events_occurred", postgres: "events");
    let last: Option<(i64, i64)> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT tx_id, seq FROM {events} WHERE occurred_at < $1 AND (tx_id, seq) <= ($2, $3)
         ORDER BY tx_id DESC, seq DESC LIMIT 1"
    ))).bind(before).bind(dispatched_tx).bind(dispatched_seq).fetch_optional(&mut **c).await)?;
    let Some((tx_id, seq)) = last else {
        return Ok(0);
    };
    let removed = on_tx!(&mut tx, c => sqlx::query("DELETE FROM events WHERE (tx_id, seq) <= ($1, $2)")
        .bind(tx_id).bind(seq).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE event_log SET pruned_tx_id = $1, pruned_seq = $2 WHERE id = 1")
        .bind(tx_id).bind(seq).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(removed)
}

/// Whether events wait to be fanned out (a read, so idle nodes never take
/// the writer).
pub async fn undispatched(db: &Db) -> Result<bool, ApiError> {
    let found: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(1 AS BIGINT) FROM events e JOIN event_log l ON l.id = 1
         WHERE (e.tx_id, e.seq) > (l.dispatched_tx_id, l.dispatched_seq) LIMIT 1"
    ).fetch_optional(pool).await)?;
    Ok(found.is_some())
}

/// Claims the dispatcher's place in the feed inside `tx` (on PostgreSQL only
/// one node at a time gets it; the others get `None` and try later).
pub async fn claim_dispatch(tx: &mut Tx) -> Result<Option<Position>, ApiError> {
    let sql = dialect!(tx,
        sqlite: "SELECT dispatched_tx_id, dispatched_seq FROM event_log WHERE id = 1",
        postgres: "SELECT dispatched_tx_id, dispatched_seq FROM event_log WHERE id = 1 FOR UPDATE SKIP LOCKED",
    );
    let row: Option<(i64, i64)> =
        on_tx!(tx, c => sqlx::query_as(sql).fetch_optional(&mut **c).await)?;
    Ok(row.map(|(tx_id, seq)| Position { tx_id, seq }))
}

pub async fn set_dispatched(tx: &mut Tx, at: Position) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query("UPDATE event_log SET dispatched_tx_id = $1, dispatched_seq = $2 WHERE id = 1")
        .bind(at.tx_id).bind(at.seq).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let at = Position { tx_id: 812, seq: 3 };
        assert_eq!(Position::parse(&at.cursor()).unwrap(), at);
        assert_eq!(
            Position::parse(&Position::START.cursor()).unwrap(),
            Position::START
        );
        assert!(Position::parse("not-a-cursor").is_err());
        assert!(Position::parse(&URL_SAFE_NO_PAD.encode("e1.1")).is_err());
        assert!(Position::parse(&URL_SAFE_NO_PAD.encode("e1.1.x")).is_err());
    }

    #[test]
    fn positions_order_by_transaction_then_sequence() {
        let a = Position { tx_id: 5, seq: 9 };
        let b = Position { tx_id: 6, seq: 1 };
        assert!(a < b && Position::START < a);
    }
}
