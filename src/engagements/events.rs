//! The engagements module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const AREA: Area = Area::Engagements;

pub const CREATED: EventType = EventType::new(
    "engagement.created",
    AREA,
    "An engagement was created; data is the engagement.",
);
pub const UPDATED: EventType = EventType::new(
    "engagement.updated",
    AREA,
    "An engagement changed (its people included); data is the engagement.",
);
pub const STATUS_CHANGED: EventType = EventType::new(
    "engagement.status_changed",
    AREA,
    "An engagement moved to another status; data is the engagement, with `previous_status`.",
);
pub const DELETED: EventType = EventType::new(
    "engagement.deleted",
    AREA,
    "An engagement was deleted; data holds its id.",
);

pub const EVENTS: [EventType; 4] = [CREATED, UPDATED, STATUS_CHANGED, DELETED];
