use crate::{auth::tokens::JwtKeys, config::Settings, db::Db};

/// What every handler can reach, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub jwt: JwtKeys,
    pub settings: Settings,
    /// Users' current standing, read briefly cached (see `auth::standing`).
    pub standings: crate::auth::standing::StandingCache,
}
