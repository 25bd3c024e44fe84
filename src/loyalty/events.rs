//! The loyalty module's events (see `crate::events`).

use crate::{auth::Area, events::EventType};

const AREA: Area = Area::Loyalty;

pub const MEMBER_ENROLLED: EventType = EventType::new(
    "loyalty.member_enrolled",
    AREA,
    "A contact joined the programme; data is the member.",
);
pub const POINTS_EARNED: EventType = EventType::new(
    "loyalty.points_earned",
    AREA,
    "Points were earned; data is the ledger entry.",
);
pub const POINTS_REDEEMED: EventType = EventType::new(
    "loyalty.points_redeemed",
    AREA,
    "Points were spent; data is the ledger entry.",
);
pub const POINTS_ADJUSTED: EventType = EventType::new(
    "loyalty.points_adjusted",
    AREA,
    "Points were adjusted or an entry reversed by staff; data is the ledger entry.",
);
pub const POINTS_EXPIRED: EventType = EventType::new(
    "loyalty.points_expired",
    AREA,
    "Points expired (by the clock); data is the ledger entry.",
);
pub const TIER_CHANGED: EventType = EventType::new(
    "loyalty.tier_changed",
    AREA,
    "A member moved to another tier; data is the member.",
);
pub const REDEMPTION_CREATED: EventType = EventType::new(
    "loyalty.redemption_created",
    AREA,
    "A reward was redeemed; data is the redemption.",
);
pub const REDEMPTION_CANCELLED: EventType = EventType::new(
    "loyalty.redemption_cancelled",
    AREA,
    "A redemption was cancelled and its points given back; data is the redemption.",
);
pub const REWARD_CHANGED: EventType = EventType::new(
    "loyalty.reward_changed",
    AREA,
    "A reward was created, changed or deleted; data is the reward (only its id when deleted).",
);
pub const PROGRAM_UPDATED: EventType = EventType::new(
    "loyalty.program_updated",
    AREA,
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
