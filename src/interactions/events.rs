//! The interactions module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const AREA: Area = Area::Interactions;

pub const CREATED: EventType = EventType::new(
    "interaction.created",
    AREA,
    "An interaction was logged; data is the interaction.",
);
pub const UPDATED: EventType = EventType::new(
    "interaction.updated",
    AREA,
    "An interaction changed; data is the interaction.",
);
pub const DELETED: EventType = EventType::new(
    "interaction.deleted",
    AREA,
    "An interaction was deleted; data holds its id.",
);

pub const EVENTS: [EventType; 3] = [CREATED, UPDATED, DELETED];
