//! The contacts module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const AREA: Area = Area::Contacts;

pub const CREATED: EventType = EventType::new(
    "contact.created",
    AREA,
    "A contact was created; data is the contact.",
);
pub const UPDATED: EventType = EventType::new(
    "contact.updated",
    AREA,
    "A contact changed; data is the contact.",
);
pub const DELETED: EventType = EventType::new(
    "contact.deleted",
    AREA,
    "A contact was deleted; data holds its id.",
);
pub const MERGED: EventType = EventType::new(
    "contact.merged",
    AREA,
    "Duplicates were merged into a surviving contact; data is `{contact, merged_contact_ids}`.",
);
pub const ERASED: EventType = EventType::new(
    "contact.erased",
    AREA,
    "A contact's personal data was erased; data holds its id (and its earlier events keep only ids).",
);

pub const EVENTS: [EventType; 5] = [CREATED, UPDATED, DELETED, MERGED, ERASED];
