//! The channels module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const AREA: Area = Area::Channels;

pub const CREATED: EventType = EventType::new(
    "channel.created",
    AREA,
    "A channel was created; data is the channel.",
);
pub const UPDATED: EventType = EventType::new(
    "channel.updated",
    AREA,
    "A channel changed; data is the channel.",
);
pub const DELETED: EventType = EventType::new(
    "channel.deleted",
    AREA,
    "A channel was deleted; data holds its id.",
);

pub const EVENTS: [EventType; 3] = [CREATED, UPDATED, DELETED];
