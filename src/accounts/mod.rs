//! Accounts: the client organisations (`/v1/accounts`).

pub mod events;
pub mod export;
pub mod model;
pub mod patch;
pub mod repo;
pub mod routes;
