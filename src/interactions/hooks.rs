//! What the interactions module does when a contact is merged, erased or
//! exported (registered in `crate::modules`).

use uuid::Uuid;

use super::repo;
use crate::{
    audit,
    auth::Area,
    db::{Db, Tx, now},
    domain::ERASED,
    hooks::{ContactRecords, Hook, Section, SectionSchema, list_of, section},
    http::ApiError,
    on_tx,
    timeline::sources::Source,
    transactions::history,
};

pub struct Interactions;

impl ContactRecords for Interactions {
    fn reassign<'a>(&'a self, tx: &'a mut Tx, duplicate: Uuid, survivor: Uuid) -> Hook<'a> {
        Box::pin(reassign_contact(tx, duplicate, survivor))
    }

    fn erase<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a> {
        Box::pin(erase_contact(tx, contact))
    }

    fn export<'a>(&'a self, db: &'a Db, contact: Uuid) -> Hook<'a, Vec<Section>> {
        Box::pin(async move {
            Ok(vec![section(
                "interactions",
                repo::all_of_contact(db, contact).await?,
            )?])
        })
    }

    fn export_schema(&self) -> Vec<SectionSchema> {
        vec![SectionSchema {
            name: "interactions",
            schema: list_of(
                "Interaction",
                "Every interaction with the contact, oldest first.",
            ),
        }]
    }
}

/// Merge hook: moves a duplicate contact's interactions to the survivor,
/// inside the caller's transaction. The interactions keep their `account_id`.
async fn reassign_contact(tx: &mut Tx, from: Uuid, to: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE interactions SET contact_id = $1, version = version + 1, updated_at = $2 WHERE contact_id = $3"
    ).bind(to).bind(now()).bind(from).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let survivor = history::Parties {
        account_id: None,
        contact_id: Some(to),
    };
    history::refresh_last_interaction(tx, &[survivor]).await
}

/// Erase hook: replaces the free text of the contact's interactions
/// (subject, summary, outcome) with `[erased]` and empties the recorded
/// values of their audit events, inside the caller's transaction. The
/// interactions themselves stay (with channel, direction, type, purpose, time
/// and duration), so channel metrics and account history keep their totals.
async fn erase_contact(tx: &mut Tx, contact_id: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE interactions SET
             subject = CASE WHEN subject IS NULL THEN NULL ELSE $1 END,
             summary = CASE WHEN summary IS NULL THEN NULL ELSE $1 END,
             outcome = CASE WHEN outcome IS NULL THEN NULL ELSE $1 END,
             version = version + 1, updated_at = $2
         WHERE contact_id = $3"
    ).bind(ERASED).bind(now()).bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::forget(
        tx,
        "interaction",
        "SELECT id FROM interactions WHERE contact_id = $1",
        contact_id,
    )
    .await
}

pub const TIMELINE: Source = Source {
    kind: "interaction",
    area: Area::Interactions,
    select: "SELECT 'interaction' AS kind, i.id AS id, i.occurred_at AS occurred_at, i.channel_id AS channel_id,
                    i.contact_id AS contact_id, i.account_id AS account_id, i.engagement_id AS engagement_id,
                    i.interaction_type AS item_type,
                    COALESCE(i.subject, SUBSTR(i.summary, 1, 200), i.direction || ' ' || i.interaction_type) AS summary
             FROM interactions i",
    occurred_at: "i.occurred_at",
    id: "i.id",
    contact_id: Some("i.contact_id"),
    account_id: Some("i.account_id"),
    engagement_id: Some("i.engagement_id"),
    in_account_timeline: true,
    link: |row| format!("/v1/interactions/{}", row.id),
};
