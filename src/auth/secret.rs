//! The JWT signing secret: from `RAPPORT_JWT_SECRET`, or generated once and
//! kept in the database so that restarts and several nodes share it.

use crate::{
    db::{Db, now},
    on_writer,
};

pub async fn load_or_create(db: &Db, configured: Option<&str>) -> Result<Vec<u8>, sqlx::Error> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    let candidate = super::random_token(48);
    // Several nodes may start at once: the first insert wins and all read it.
    on_writer!(db, pool => sqlx::query("INSERT INTO settings (key, value, created_at) VALUES ('jwt_secret', $1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(&candidate).bind(now()).execute(pool).await.map(|_| ()))?;
    let secret: String = on_writer!(db, pool => sqlx::query_scalar("SELECT value FROM settings WHERE key = 'jwt_secret'")
        .fetch_one(pool).await)?;
    Ok(secret.into_bytes())
}
