//! Staff users: `/v1/users` (admins only).

pub mod model;
pub mod repo;
pub mod routes;
