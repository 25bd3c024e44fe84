//! Tasks: the follow-ups a client-service team works from (`/v1/tasks`,
//! `/v1/me/tasks`), with recurrence.

pub mod events;
pub mod hooks;
pub mod list;
pub mod model;
pub mod patch;
pub mod repo;
pub mod routes;
pub mod rules;
pub mod schedule;
pub mod settings;
