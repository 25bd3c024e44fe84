//! API keys for partner systems: `/v1/api-keys` (admins only).

pub mod routes;
