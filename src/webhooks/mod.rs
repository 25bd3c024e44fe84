//! Webhooks: each event of the feed (`crate::events`) delivered to the
//! endpoints that subscribe to its type, signed per the Standard Webhooks
//! specification, at least once, with retries on a schedule of about three
//! days. Deliveries live in the database and are worked by a background job
//! on every node ([`worker`]); no API request ever waits for one.

pub mod delivery_routes;
pub mod model;
pub mod repo;
pub mod routes;
pub mod schedule;
pub mod signing;
pub mod worker;

use crate::{auth::Area, events::EventType};

pub const TEST: EventType = EventType::new(
    "webhook.test",
    Area::Settings,
    "Sent by `POST /v1/webhook-endpoints/{id}/test` to that endpoint alone (other endpoints never get it).",
);
pub const ENDPOINT_DISABLED: EventType = EventType::new(
    "webhook_endpoint.disabled",
    Area::Settings,
    "An endpoint failed every attempt of a delivery's whole schedule and was disabled; data is the endpoint.",
);
pub const EVENTS: [EventType; 2] = [TEST, ENDPOINT_DISABLED];
