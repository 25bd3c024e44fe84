//! The accounts module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const fn event(name: &'static str, about: &'static str) -> EventType {
    EventType {
        name,
        area: Area::Accounts,
        about,
    }
}

pub const CREATED: EventType = event(
    "account.created",
    "An account was created; data is the account.",
);
pub const UPDATED: EventType = event(
    "account.updated",
    "An account changed; data is the account.",
);
pub const DELETED: EventType = event(
    "account.deleted",
    "An account was deleted; data holds its id.",
);

pub const EVENTS: [EventType; 3] = [CREATED, UPDATED, DELETED];
