//! The loyalty module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const fn event(name: &'static str, about: &'static str) -> EventType {
    EventType {
        name,
        area: Area::Loyalty,
        about,
    }
}

pub const MEMBER_ENROLLED: EventType = event(
    "loyalty.member_enrolled",
    "A contact joined the programme; data is the member.",
);
pub const POINTS_EARNED: EventType = event(
    "loyalty.points_earned",
    "Points were earned; data is the ledger entry.",
);
pub const POINTS_REDEEMED: EventType = event(
    "loyalty.points_redeemed",
    "Points were spent; data is the ledger entry.",
);
pub const POINTS_ADJUSTED: EventType = event(
    "loyalty.points_adjusted",
    "Points were adjusted or an entry reversed by staff; data is the ledger entry.",
);
pub const POINTS_EXPIRED: EventType = event(
    "loyalty.points_expired",
    "Points expired (by the clock); data is the ledger entry.",
);
pub const TIER_CHANGED: EventType = event(
    "loyalty.tier_changed",
    "A member moved to another tier; data is the member.",
);
pub const REDEMPTION_CREATED: EventType = event(
    "loyalty.redemption_created",
    "A reward was redeemed; data is the redemption.",
);
pub const REDEMPTION_CANCELLED: EventType = event(
    "loyalty.redemption_cancelled",
    "A redemption was cancelled and its points given back; data is the redemption.",
);
pub const REWARD_CHANGED: EventType = event(
    "loyalty.reward_changed",
    "A reward was created, changed or deleted; data is the reward (only its id when deleted).",
);
pub const PROGRAM_UPDATED: EventType = event(
    "loyalty.program_updated",
    "The programme's settings changed; data is the programme.",
);

pub const EVENTS: [EventType; 10] = [
    MEMBER_ENROLLED,
    POINTS_EARNED,
    POINTS_REDEEMED,
    POINTS_ADJUSTED,
    POINTS_EXPIRED,
    TIER_CHANGED,
    REDEMPTION_CREATED,
    REDEMPTION_CANCELLED,
    REWARD_CHANGED,
    PROGRAM_UPDATED,
];
