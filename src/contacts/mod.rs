//! Contacts: the people the firm deals with (`/v1/contacts`).

pub mod bulk;
pub mod hooks;
pub mod model;
pub mod privacy;
pub mod repo;
pub mod routes;
