//! What happens to feedback when its contact is merged into another, erased
//! or exported (registered in `crate::modules`; merge and erasure run inside
//! their transaction).

use uuid::Uuid;

use super::{activities, repo};
use crate::{
    audit,
    db::{Db, Tx, now},
    domain::ERASED,
    hooks::{ContactRecords, Hook, Section, SectionSchema, list_of, section},
    http::ApiError,
    on_tx,
};
use crate::{auth::Area, timeline::sources::Source};

pub struct Feedback;

impl ContactRecords for Feedback {
    fn reassign<'a>(&'a self, tx: &'a mut Tx, duplicate: Uuid, survivor: Uuid) -> Hook<'a> {
        Box::pin(reassign_contact(tx, duplicate, survivor))
    }

    fn erase<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a> {
        Box::pin(erase_contact(tx, contact))
    }

    /// An activity's stored answer names only its item.
    fn ids_naming<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a, Vec<Uuid>> {
        Box::pin(ids_of_contact(tx, contact))
    }

    fn export<'a>(&'a self, db: &'a Db, contact: Uuid) -> Hook<'a, Vec<Section>> {
        Box::pin(async move {
            Ok(vec![
                section("feedback", repo::all_of_contact(db, contact).await?)?,
                section(
                    "feedback_activities",
                    activities::all_of_contact(db, contact).await?,
                )?,
            ])
        })
    }

    fn export_schema(&self) -> Vec<SectionSchema> {
        vec![
            SectionSchema {
                name: "feedback",
                schema: list_of(
                    "Feedback",
                    "Everything the person told the firm (complaints, survey answers…), oldest first.",
                ),
            },
            SectionSchema {
                name: "feedback_activities",
                schema: list_of(
                    "Activity",
                    "The activity log of that feedback (transitions, assignments, comments), oldest first.",
                ),
            },
        ]
    }
}

/// Merge: the duplicate's feedback moves to the survivor; each item keeps its `account_id`.
pub async fn reassign_contact(tx: &mut Tx, from: Uuid, to: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE feedback SET contact_id = $1, version = version + 1, updated_at = $2 WHERE contact_id = $3"
    ).bind(to).bind(now()).bind(from).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Erasure: the free text of the contact's feedback (the text, the resolution, every activity note) becomes
/// `[erased]`, and the audit events about that feedback lose their recorded values. Scores, kinds, times and states stay, so satisfaction and service-level metrics keep their totals.
pub async fn erase_contact(tx: &mut Tx, contact_id: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE feedback SET
             text = CASE WHEN text IS NULL THEN NULL ELSE $1 END,
             resolution = CASE WHEN resolution IS NULL THEN NULL ELSE $1 END,
             version = version + 1, updated_at = $2
         WHERE contact_id = $3"
    ).bind(ERASED).bind(now()).bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    activities::erase_notes(tx, contact_id).await?;
    audit::forget(
        tx,
        "feedback",
        "SELECT id FROM feedback WHERE contact_id = $1",
        contact_id,
    )
    .await
}

/// The ids of the contact's feedback.
pub async fn ids_of_contact(tx: &mut Tx, contact_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM feedback WHERE contact_id = $1")
        .bind(contact_id).fetch_all(&mut **c).await)?,
    )
}

/// Feedback items (`type`: complaint, suggestion, praise, inquiry, survey), at
/// the time the customer gave them.
pub const TIMELINE: Source = Source {
    kind: "feedback",
    area: Area::Feedback,
    select: "SELECT 'feedback' AS kind, f.id AS id, f.received_at AS occurred_at, f.channel_id AS channel_id,
                    f.contact_id AS contact_id, f.account_id AS account_id, f.engagement_id AS engagement_id,
                    f.kind AS item_type,
                    COALESCE(SUBSTR(f.text, 1, 200), 'NPS ' || f.nps, 'CSAT ' || f.csat, 'CES ' || f.ces, f.kind) AS summary
             FROM feedback f",
    occurred_at: "f.received_at",
    id: "f.id",
    contact_id: Some("f.contact_id"),
    account_id: Some("f.account_id"),
    engagement_id: Some("f.engagement_id"),
    in_account_timeline: true,
    link: |row| format!("/v1/feedback/{}", row.id),
};
