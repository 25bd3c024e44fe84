//! What the interactions module does when a contact is merged, erased or
//! exported (registered in `crate::modules`).

use uuid::Uuid;

use super::repo;
use crate::{auth::Area, timeline::sources::Source};
use crate::{
    db::{Db, Tx},
    hooks::{ContactRecords, Hook, Section, SectionSchema, list_of, section},
};

pub struct Interactions;

impl ContactRecords for Interactions {
    fn reassign<'a>(&'a self, tx: &'a mut Tx, duplicate: Uuid, survivor: Uuid) -> Hook<'a> {
        Box::pin(repo::reassign_contact(tx, duplicate, survivor))
    }

    fn erase<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a> {
        Box::pin(repo::erase_contact(tx, contact))
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
