//! The transactions module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

pub const CREATED: EventType = EventType::new(
    "transaction.created",
    Area::Transactions,
    "A purchase or refund was recorded; data is the transaction.",
);

pub const EVENTS: [EventType; 1] = [CREATED];
