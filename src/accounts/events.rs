//! The accounts module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const AREA: Area = Area::Accounts;

pub const CREATED: EventType = EventType::new(
    "account.created",
    AREA,
    "An account was created; data is the account.",
);
pub const UPDATED: EventType = EventType::new(
    "account.updated",
    AREA,
    "An account changed; data is the account.",
);
pub const DELETED: EventType = EventType::new(
    "account.deleted",
    AREA,
    "An account was deleted; data holds its id.",
);

pub const EVENTS: [EventType; 3] = [CREATED, UPDATED, DELETED];
