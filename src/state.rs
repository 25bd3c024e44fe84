use crate::{auth::tokens::JwtKeys, config::Settings, db::Db};

/// What every handler can reach, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub jwt: JwtKeys,
    pub settings: Settings,
}
