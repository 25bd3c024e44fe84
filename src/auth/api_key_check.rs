use chrono::Duration;
use sqlx::types::Json;
use uuid::Uuid;

use super::{Principal, tokens::hash_secret};
use crate::{
    db::{Db, now},
    http::error::ApiError,
    on_db, on_writer,
};

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: Uuid,
    secret_hash: String,
    scopes: Json<Vec<String>>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Keys belong to the admin who created them: they stop with that admin.
    creator_active: bool,
}

/// The prefix part of `rpk_<prefix>_<secret>`, the key's public handle.
pub fn key_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(super::principal::API_KEY_PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    (!prefix.is_empty() && !secret.is_empty()).then_some(prefix)
}

pub async fn check(db: &Db, key: &str) -> Result<Principal, ApiError> {
    let invalid = || ApiError::invalid_token("the API key is not valid");
    let prefix = key_prefix(key).ok_or_else(invalid)?;
    let row: Option<KeyRow> = on_db!(db, pool => sqlx::query_as(
        "SELECT k.id, k.secret_hash, k.scopes, k.expires_at, k.last_used_at, k.revoked_at,
                u.active AND u.deleted_at IS NULL AS creator_active
         FROM api_keys k JOIN users u ON u.id = k.created_by WHERE k.prefix = $1"
    ).bind(prefix).fetch_optional(pool).await)?;
    let row = row
        .filter(|r| r.secret_hash == hash_secret(key))
        .ok_or_else(invalid)?;
    let now = now();
    if row.revoked_at.is_some() {
        return Err(ApiError::invalid_token("the API key has been revoked"));
    }
    if !row.creator_active {
        return Err(ApiError::invalid_token(
            "the API key's creator was deactivated or deleted; an admin must create a new key",
        ));
    }
    if row.expires_at.is_some_and(|t| t <= now) {
        return Err(ApiError::invalid_token("the API key has expired"));
    }
    // Recorded at most once a minute, so a busy key costs one write a minute.
    if row
        .last_used_at
        .is_none_or(|t| now - t > Duration::seconds(60))
    {
        on_writer!(db, pool => sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now).bind(row.id).execute(pool).await.map(|r| r.rows_affected()))?;
    }
    Ok(Principal::ApiKey {
        id: row.id,
        scopes: row.scopes.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_the_middle_part() {
        assert_eq!(key_prefix("rpk_abc123_secret"), Some("abc123"));
        assert_eq!(key_prefix("rpk_abc123_"), None);
        assert_eq!(key_prefix("nope_abc_def"), None);
    }
}
