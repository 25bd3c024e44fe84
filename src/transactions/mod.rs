//! Transactions: money a client paid or got back (`/v1/transactions`), and
//! the purchase history it builds on accounts and contacts.

pub mod events;
pub mod history;
pub mod hooks;
pub mod import;
pub mod model;
pub mod repo;
pub mod routes;
