//! Contacts: the people the firm deals with (`/v1/contacts`).

pub mod erasure;
pub mod events;
pub mod export;
pub mod import;
mod import_rows;
pub mod input;
pub mod list_params;
pub mod model;
pub mod patch;
pub mod privacy;
pub mod repo;
pub mod routes;
