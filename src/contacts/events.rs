//! The contacts module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const fn event(name: &'static str, about: &'static str) -> EventType {
    EventType {
        name,
        area: Area::Contacts,
        about,
    }
}

pub const CREATED: EventType = event(
    "contact.created",
    "A contact was created; data is the contact.",
);
pub const UPDATED: EventType = event("contact.updated", "A contact changed; data is the contact.");
pub const DELETED: EventType = event(
    "contact.deleted",
    "A contact was deleted; data holds its id.",
);
pub const MERGED: EventType = event(
    "contact.merged",
    "Duplicates were merged into a surviving contact; data is `{contact, merged_contact_ids}`.",
);
pub const ERASED: EventType = event(
    "contact.erased",
    "A contact's personal data was erased; data holds its id (and its earlier events keep only ids).",
);

pub const EVENTS: [EventType; 5] = [CREATED, UPDATED, DELETED, MERGED, ERASED];
