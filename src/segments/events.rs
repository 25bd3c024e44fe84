//! The segments module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const AREA: Area = Area::Segments;

pub const CREATED: EventType = EventType::new(
    "segment.created",
    AREA,
    "A segment was created; data is the segment (without `member_count`).",
);
pub const UPDATED: EventType = EventType::new(
    "segment.updated",
    AREA,
    "A segment's name or filter changed; data is the segment (without `member_count`).",
);
pub const DELETED: EventType = EventType::new(
    "segment.deleted",
    AREA,
    "A segment was deleted; data holds its id.",
);

pub const EVENTS: [EventType; 3] = [CREATED, UPDATED, DELETED];
