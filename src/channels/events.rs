//! The channels module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const fn event(name: &'static str, about: &'static str) -> EventType {
    EventType {
        name,
        area: Area::Channels,
        about,
    }
}

pub const CREATED: EventType = event(
    "channel.created",
    "A channel was created; data is the channel.",
);
pub const UPDATED: EventType = event("channel.updated", "A channel changed; data is the channel.");
pub const DELETED: EventType = event(
    "channel.deleted",
    "A channel was deleted; data holds its id.",
);

pub const EVENTS: [EventType; 3] = [CREATED, UPDATED, DELETED];
