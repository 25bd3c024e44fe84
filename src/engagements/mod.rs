//! Engagements: the work the firm does for a client (`/v1/engagements`),
//! the people on it, and its history.

pub mod events;
pub mod hooks;
pub mod model;
pub mod people;
pub mod repo;
pub mod routes;
pub mod status;
