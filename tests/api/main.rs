//! The black-box suite: every test starts the real server on a random port
//! against a fresh database and talks HTTP to it, as a client would. One test
//! binary with a module per area (each binary links the whole crate, so one
//! binary builds in a fraction of the time of one per area).

#[macro_use]
mod common;

mod accounts;
mod api_keys;
mod auth;
mod channels;
mod cli;
mod consent;
mod contacts;
mod contacts_bulk;
mod contacts_customer_record;
mod contract;
mod engagements;
mod engagements_links;
mod events;
mod events_sla;
mod feedback;
mod feedback_complaints;
mod feedback_customer_record;
mod feedback_metrics;
mod feedback_satisfaction;
mod feedback_service_levels;
mod feedback_workflow;
mod http_conventions;
mod http_operations;
mod insights_activity;
mod insights_customers;
mod insights_metrics;
mod interactions;
mod interactions_access;
mod interactions_customer_record;
mod loyalty_concurrency;
mod loyalty_expiry;
mod loyalty_hooks;
mod loyalty_ledger;
mod loyalty_ledger_access;
mod loyalty_metrics;
mod loyalty_program;
mod loyalty_rewards;
mod merge_patch;
mod openapi;
mod preferences;
mod quiet_hours;
mod references;
mod security;
mod segments;
mod segments_members;
mod tasks;
mod tasks_rules;
mod timeline;
mod transactions;
mod transactions_import;
mod users;
mod webhooks;
