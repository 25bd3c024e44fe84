//! Refresh tokens: opaque, stored hashed, rotated on every use. Presenting a
//! token that was already rotated means it leaked (or a client raced itself):
//! the whole family is revoked, so the thief's copy dies with the victim's.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{random_token, tokens::hash_secret};
use crate::{
    db::{Db, Tx, new_id, now},
    http::ApiError,
    on_tx,
};

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    family_id: Uuid,
    expires_at: DateTime<Utc>,
    rotated_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// Issues a new token in `family_id` (a new family at sign-in).
pub async fn issue(
    tx: &mut Tx,
    user_id: Uuid,
    family_id: Uuid,
    ttl: Duration,
) -> Result<String, ApiError> {
    let token = format!("rrt_{}", random_token(32));
    let now = now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(new_id()).bind(user_id).bind(family_id).bind(hash_secret(&token)).bind(now + ttl).bind(now)
     .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(token)
}

pub enum Rotation {
    /// The token was current: here is its successor, for this user.
    Rotated {
        user_id: Uuid,
        token: String,
    },
    Refused(&'static str),
}

pub async fn rotate(db: &Db, presented: &str, ttl: Duration) -> Result<Rotation, ApiError> {
    let mut tx = db.begin().await?;
    // A family is revoked as a whole, so one revoked member revokes them all:
    // that also catches a successor issued while a revocation was running
    // (PostgreSQL's revoking UPDATE cannot see a row inserted after it began).
    let row: Option<TokenRow> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT t.id, t.user_id, t.family_id, t.expires_at, t.rotated_at,
                COALESCE(t.revoked_at, (SELECT MIN(f.revoked_at) FROM refresh_tokens f WHERE f.family_id = t.family_id)) AS revoked_at
         FROM refresh_tokens t WHERE t.token_hash = $1"
    ).bind(hash_secret(presented)).fetch_optional(&mut **c).await)?;
    let Some(row) = row else {
        return Ok(Rotation::Refused("the refresh token is not valid"));
    };
    let now = now();
    if row.revoked_at.is_some() {
        return Ok(Rotation::Refused(
            "the refresh token has been revoked; sign in again",
        ));
    }
    if row.rotated_at.is_some() {
        revoke_family(&mut tx, row.family_id).await?;
        tx.commit().await?;
        return Ok(Rotation::Refused(
            "the refresh token was already used; every token of this sign-in is now revoked, sign in again",
        ));
    }
    if row.expires_at <= now {
        return Ok(Rotation::Refused(
            "the refresh token has expired; sign in again",
        ));
    }
    // The conditional update makes two concurrent uses of one token rotate it once.
    let claimed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE refresh_tokens SET rotated_at = $1 WHERE id = $2 AND rotated_at IS NULL AND revoked_at IS NULL"
    ).bind(now).bind(row.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if claimed == 0 {
        revoke_family(&mut tx, row.family_id).await?;
        tx.commit().await?;
        return Ok(Rotation::Refused(
            "the refresh token was already used; sign in again",
        ));
    }
    let token = issue(&mut tx, row.user_id, row.family_id, ttl).await?;
    tx.commit().await?;
    Ok(Rotation::Rotated {
        user_id: row.user_id,
        token,
    })
}

async fn revoke_family(tx: &mut Tx, family_id: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
        .bind(now()).bind(family_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Revokes the family of `presented` when it belongs to `user_id`; returns
/// whether anything was revoked.
pub async fn revoke(db: &Db, presented: &str, user_id: Uuid) -> Result<bool, ApiError> {
    let mut tx = db.begin().await?;
    let family: Option<Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2"
    ).bind(hash_secret(presented)).bind(user_id).fetch_optional(&mut **c).await)?;
    let Some(family) = family else {
        return Ok(false);
    };
    revoke_family(&mut tx, family).await?;
    tx.commit().await?;
    Ok(true)
}

/// Revokes every refresh token of a user (logout everywhere).
pub async fn revoke_all(db: &Db, user_id: Uuid) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now()).bind(user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}
