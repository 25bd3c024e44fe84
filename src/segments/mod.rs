//! Segments: saved filters over contacts or accounts (`/v1/segments`), with
//! their members read through the entity's own list and export code.

pub mod events;
pub mod filter;
pub mod members;
pub mod model;
pub mod repo;
pub mod routes;
