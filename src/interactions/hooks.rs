//! What the interactions module does when a contact is merged, erased or
//! exported (registered in `crate::modules`).

use uuid::Uuid;

use super::repo;
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
