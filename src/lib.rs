//! Rapport: an open-source CRM backend.
//!
//! The crate is the whole server; `main.rs` is a thin CLI over [`app::start`].

pub mod accounts;
pub mod api_keys;
pub mod app;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod channels;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod db;
pub mod domain;
pub mod engagements;
pub mod events;
pub mod feedback;
pub mod hooks;
pub mod http;
pub mod insights;
pub mod interactions;
pub mod loyalty;
pub mod modules;
pub mod openapi;
pub mod ops;
pub mod preferences;
pub mod segments;
pub mod state;
pub mod tasks;
pub mod telemetry;
pub mod timeline;
pub mod transactions;
pub mod users;
pub mod webhooks;
