//! Feedback: what customers tell the firm (`/v1/feedback`), the handling
//! workflow of complaints and inquiries with service-level clocks and an
//! activity log, the working calendar (`/v1/service-levels/calendar`), and the
//! satisfaction, service-level and complaint metrics (`/v1/metrics/…`).

pub mod activities;
pub mod calendar;
pub mod calendar_api;
pub mod complaint_metrics;
pub mod events;
pub mod hooks;
pub mod list;
pub mod metrics;
pub mod metrics_sql;
pub mod model;
pub mod repo;
pub mod routes;
pub mod rules;
pub mod service_level_metrics;
pub mod service_levels;
pub mod sla_state;
pub mod transitions;
pub mod workflow;
