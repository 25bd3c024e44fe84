use crate::{auth::tokens::JwtKeys, config::Settings, db::Db};

/// What every handler can reach. Each worker has its own copy: on
/// PostgreSQL its own pool (see [`Db::for_worker`]); everything else is the
/// node's, shared.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub jwt: JwtKeys,
    pub settings: Settings,
    /// Users' current standing, read briefly cached (see `auth::standing`).
    pub standings: std::sync::Arc<crate::auth::standing::StandingCache>,
    /// Every module's merge, erase and export hooks (`crate::modules`).
    pub hooks: crate::hooks::Registry,
}
