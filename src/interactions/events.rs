//! The interactions module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const fn event(name: &'static str, about: &'static str) -> EventType {
    EventType {
        name,
        area: Area::Interactions,
        about,
    }
}

pub const CREATED: EventType = event(
    "interaction.created",
    "An interaction was logged; data is the interaction.",
);
pub const UPDATED: EventType = event(
    "interaction.updated",
    "An interaction changed; data is the interaction.",
);
pub const DELETED: EventType = event(
    "interaction.deleted",
    "An interaction was deleted; data holds its id.",
);

pub const EVENTS: [EventType; 3] = [CREATED, UPDATED, DELETED];
