//! What the preferences module does when a contact is merged, erased or
//! exported (registered in `crate::modules`).

use uuid::Uuid;

use super::repo;
use crate::{
    db::{Db, Tx},
    hooks::{ContactRecords, Hook, Section, SectionSchema, list_of, one, section},
};

pub struct Preferences;

impl ContactRecords for Preferences {
    fn reassign<'a>(&'a self, tx: &'a mut Tx, duplicate: Uuid, survivor: Uuid) -> Hook<'a> {
        Box::pin(repo::reassign_contact(tx, duplicate, survivor))
    }

    fn erase<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a> {
        Box::pin(repo::erase_contact(tx, contact))
    }

    fn export<'a>(&'a self, db: &'a Db, contact: Uuid) -> Hook<'a, Vec<Section>> {
        Box::pin(async move {
            Ok(vec![
                section("preferences", repo::get(db, contact).await?)?,
                section("consent_history", repo::all_consents(db, contact).await?)?,
            ])
        })
    }

    fn export_schema(&self) -> Vec<SectionSchema> {
        vec![
            SectionSchema {
                name: "preferences",
                schema: one(
                    "Preferences",
                    "Communication preferences and the consent in force.",
                ),
            },
            SectionSchema {
                name: "consent_history",
                schema: list_of(
                    "Consent",
                    "Every consent statement ever recorded, oldest first.",
                ),
            },
        ]
    }
}
