//! Interactions: every touch with a contact or account on a channel
//! (`/v1/interactions`). Logging an outbound marketing touch is subject to the
//! contact's consent and weekly cap (see `preferences`).
//!
//! [`hooks`] holds what the contacts module calls when it merges, erases or
//! exports a contact.

pub mod events;
pub mod hooks;
pub mod model;
pub mod repo;
pub mod routes;
pub mod rules;
