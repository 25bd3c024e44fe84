//! Events: every change to CRM data, written in the transaction of the change
//! (a transactional outbox), read back as the changes feed (`GET /v1/events`)
//! and delivered to webhook endpoints (`crate::webhooks`).
//!
//! Each module declares its [`EventType`]s next to its code and registers them
//! in `crate::modules`; [`record`] writes one inside the caller's [`Tx`], so a
//! change that rolls back emits nothing.

pub mod feed;
pub mod routes;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::records::{Bind, Record};

use crate::{
    audit::Actor,
    auth::Area,
    db::{Tx, new_id, now},
    dialect,
    http::ApiError,
    on_tx,
};

/// A kind of event: its name (`contact.created`), the area whose read access
/// sees it, and what it means (for the OpenAPI document).
#[derive(Debug, PartialEq, Eq)]
pub struct EventType {
    pub name: &'static str,
    pub area: Area,
    pub about: &'static str,
}

impl EventType {
    pub const fn new(name: &'static str, area: Area, about: &'static str) -> Self {
        Self { name, area, about }
    }
}

/// Writes one event about a change inside the change's transaction. `data`
/// is the resource as `GET` returns it to an admin (only ids for deletions
/// and erasures); `contact` is the person it is about, if any, so erasing
/// them blanks it.
pub async fn record(
    tx: &mut Tx,
    actor: &Actor,
    kind: &EventType,
    contact: Option<Uuid>,
    data: &impl Serialize,
) -> Result<Uuid, ApiError> {
    let data = serde_json::to_value(data).map_err(ApiError::internal)?;
    let actor_id = (actor.kind != "system").then_some(actor.id);
    // The transaction's id orders the feed on PostgreSQL (see `feed`), and
    // each transaction numbers its own events; SQLite commits one writer
    // after another, so its events share tx_id 0 and number on from the
    // last one. Written with the transaction's next statement (`db::records`).
    let (tx_id, seq, own_seq) = if tx.is_sqlite() {
        (
            "0",
            "(SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE tx_id = 0)",
            None,
        )
    } else {
        (
            "pg_current_xact_id()::text::bigint",
            "$9",
            Some(tx.next_event_seq()),
        )
    };
    let id = new_id();
    let mut binds = vec![
        Bind::Uuid(id),
        Bind::Text(kind.name.to_string()),
        Bind::Text(kind.area.as_str().to_string()),
        Bind::Time(now()),
        Bind::Json(data),
        Bind::Text(actor.kind.to_string()),
        Bind::OptionalUuid(actor_id),
        Bind::OptionalUuid(contact),
    ];
    binds.extend(own_seq.map(Bind::Int));
    tx.append(Record::new(
        format!(
            "INSERT INTO events (tx_id, seq, id, type, area, occurred_at, data, actor_type, actor_id, contact_id)
             VALUES ({tx_id}, {seq}, $1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        binds,
    ));
    Ok(id)
}

/// Erasure: the events about `contact` keep their type, time and actor, and
/// their data becomes the id of the resource alone (`{"id", "erased": true}`).
pub async fn forget_contact(tx: &mut Tx, contact: Uuid) -> Result<(), ApiError> {
    let blank = dialect!(tx,
        sqlite: "json_object('id', json_extract(data, '$.id'), 'erased', json('true'))",
        postgres: "jsonb_build_object('id', data->'id', 'erased', true)",
    );
    let sql = format!("UPDATE events SET data = {blank} WHERE contact_id = $1");
    on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .bind(contact).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The `data` of a deletion or erasure event: the resource's id.
pub fn ids(id: Uuid) -> Value {
    serde_json::json!({ "id": id })
}
