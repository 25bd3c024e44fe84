//! The customer timeline (the "single customer view"):
//! `GET /v1/contacts/{id}/timeline`, `GET /v1/accounts/{id}/timeline` and
//! `GET /v1/engagements/{id}/timeline`.
//!
//! Every kind of event (interactions, feedback and loyalty events) is one
//! SELECT branch, and the database merges them:
//!
//! ```sql
//! SELECT t.*, ch.kind, ch.name FROM (
//!     SELECT * FROM (<branch> WHERE <scope> AND (occurred_at, id) < ($2, $3)
//!                    ORDER BY occurred_at DESC, id DESC LIMIT n) b0
//!     UNION ALL
//!     SELECT * FROM (<next branch> …) b1
//! ) t LEFT JOIN channels ch ON ch.id = t.channel_id
//! ORDER BY t.occurred_at DESC, t.id DESC LIMIT n
//! ```
//!
//! Each branch is cut to the page size on its own index before the merge, so
//! a page costs the same at any depth; the keyset cursor is `(occurred_at, id)`
//! of the last item served, valid across kinds.
//!
//! ## Adding a kind
//!
//! Define one [`sources::Source`] in your module (its `hooks.rs`) and
//! register it in `crate::modules` with `.with_timeline(&…)`: a `SELECT … FROM
//! <table> <alias>` (no WHERE, ORDER BY or LIMIT: the builder adds them)
//! producing exactly these columns, in this order:
//!
//! | column | type | |
//! |---|---|---|
//! | `kind` | text | the kind's name, a literal: `'feedback'` |
//! | `id` | UUID | the record's id |
//! | `occurred_at` | timestamp | when it happened: the order of the timeline |
//! | `channel_id` | UUID | the channel, or `CAST(NULL AS UUID)` (a bare `NULL` breaks the UNION on PostgreSQL) |
//! | `contact_id` | UUID | the contact, or `CAST(NULL AS UUID)` |
//! | `account_id` | UUID | the account, or `CAST(NULL AS UUID)` |
//! | `engagement_id` | UUID | the engagement, or `CAST(NULL AS UUID)` |
//! | `item_type` | text | the record's type within its kind (`call`, `complaint`, `earn`) |
//! | `summary` | text | one line for a list, never NULL (`COALESCE`) |
//!
//! and name its qualified `occurred_at`, `id` and (where it has them)
//! `contact_id`, `account_id` and `engagement_id` columns, the [`crate::auth::Area`] a caller must be able
//! to read to see it, and the link to the full record. The table needs an
//! index on `(contact_id, occurred_at, id)`, and when it has an account
//! column, one on `(account_id, occurred_at, id)` and a partial one on
//! `(contact_id, occurred_at, id) WHERE account_id IS NULL`.
//!
//! A contact's timeline holds the rows whose contact column is the contact.
//! An account's timeline holds the rows whose account column is the account,
//! plus the rows of the account's (live) contacts that are tied to no account
//! (kinds without an account column, such as loyalty events, or interactions
//! logged while the contact had no account). A row logged against another
//! account stays in that account's timeline only: a person who moved from
//! one client to another does not carry the first client's business along.
//! An engagement's timeline holds the rows whose engagement column is the
//! engagement. A kind with no contact column (an engagement's status
//! changes) shows in account and engagement timelines only.
//! Then add a test in `tests/api/timeline.rs` that pages across the new kind.

pub mod model;
pub mod repo;
pub mod routes;
pub mod sources;
