//! The preferences module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const AREA: Area = Area::Contacts;

pub const CONSENT_CHANGED: EventType = EventType::new(
    "consent.changed",
    AREA,
    "A contact's consent or communication preferences changed; data is their preferences.",
);

pub const EVENTS: [EventType; 1] = [CONSENT_CHANGED];
