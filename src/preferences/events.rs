//! The preferences module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const fn event(name: &'static str, about: &'static str) -> EventType {
    EventType {
        name,
        area: Area::Contacts,
        about,
    }
}

pub const CONSENT_CHANGED: EventType = event(
    "consent.changed",
    "A contact's consent or communication preferences changed; data is their preferences.",
);

pub const EVENTS: [EventType; 1] = [CONSENT_CHANGED];
