//! The tasks module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const AREA: Area = Area::Tasks;

pub const CREATED: EventType = EventType::new(
    "task.created",
    AREA,
    "A task was created (by a person, or as the next occurrence of a recurring one); data is the task.",
);
pub const UPDATED: EventType = EventType::new(
    "task.updated",
    AREA,
    "A task changed (cancelled and reopened included); data is the task.",
);
pub const COMPLETED: EventType =
    EventType::new("task.completed", AREA, "A task was done; data is the task.");
pub const DELETED: EventType = EventType::new(
    "task.deleted",
    AREA,
    "A task was deleted; data holds its id.",
);

pub const EVENTS: [EventType; 4] = [CREATED, UPDATED, COMPLETED, DELETED];
