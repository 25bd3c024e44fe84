//! Communication preferences and consent: `GET/PUT /v1/contacts/{id}/preferences`
//! and the consent history at `GET /v1/contacts/{id}/consents`.
//!
//! Consent is append-only evidence: every statement (granted or withdrawn, with
//! its source and legal basis) is a new row, and the consent in force for a
//! (channel kind, purpose) at a moment is the latest row recorded at or before
//! it. [`repo::enforce_marketing`] (with the rules in [`rules`]) is what interactions call before logging an
//! outbound marketing touch.

pub mod events;
pub mod hooks;
mod input;
pub mod model;
pub mod quiet_hours;
pub mod repo;
pub mod routes;
pub mod rules;
