//! A user's standing (role, whether they may act, token version), checked on
//! every request made with an access token, so that deleting, deactivating
//! or demoting a user, or changing their password, takes effect at once on
//! the node that made the change and within [`STALENESS`] on every other node.
//!
//! A token carries the user's `token_version`; those changes move it on
//! (see `users::repo`), and a token with an older version is refused. The
//! role is always read from here, never trusted from the token. Each node
//! keeps standings for [`STALENESS`] on its clock, so a busy user costs one
//! indexed read per node every few seconds, not one per request.

use std::{collections::HashMap, sync::Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::Role;
use crate::{
    db::{Db, now},
    http::ApiError,
    on_db,
};

/// How long another node may act on a standing it read before: the bound on
/// how late a revocation reaches it.
pub const STALENESS: TimeDelta = TimeDelta::seconds(2);
/// Entries kept before the cache starts over (a guard on memory, not a tuning knob).
const MAX_ENTRIES: usize = 50_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    /// Active and not deleted.
    pub may_act: bool,
    pub token_version: i64,
}

#[derive(Default)]
pub struct StandingCache(Mutex<HashMap<Uuid, (DateTime<Utc>, Option<Standing>)>>);

impl StandingCache {
    /// The user's standing for a token of `token_version`, from the cache
    /// while it is fresh; `None` for no such user. A cached standing older
    /// than the token is stale whatever its age (versions only move on: a
    /// request that read before a change can store its reading after the
    /// change's `forget`), so it is read again.
    pub async fn get(
        &self,
        db: &Db,
        user_id: Uuid,
        token_version: i64,
    ) -> Result<Option<Standing>, ApiError> {
        let now = now();
        if let Some((read_at, standing)) = self.lock().get(&user_id).copied() {
            let fresh = now - read_at < STALENESS && now >= read_at;
            let older_than_token = standing.is_some_and(|s| s.token_version < token_version);
            if fresh && !older_than_token {
                return Ok(standing);
            }
        }
        let standing = read(db, user_id).await?;
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(user_id, (now, standing));
        Ok(standing)
    }

    /// Drops what this node knows of a user, after it changed them.
    pub fn forget(&self, user_id: Uuid) {
        self.lock().remove(&user_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (DateTime<Utc>, Option<Standing>)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(sqlx::FromRow)]
struct StandingRow {
    role: String,
    active: bool,
    deleted: bool,
    token_version: i64,
}

async fn read(db: &Db, user_id: Uuid) -> Result<Option<Standing>, ApiError> {
    let row: Option<StandingRow> = on_db!(db, pool => sqlx::query_as(
        "SELECT role, active, deleted_at IS NOT NULL AS deleted, token_version FROM users WHERE id = $1"
    ).bind(user_id).fetch_optional(pool).await)?;
    row.map(|r| {
        let role = Role::parse(&r.role).ok_or_else(|| {
            ApiError::internal(format!("user {user_id} has the unknown role {:?}", r.role))
        })?;
        Ok(Standing {
            role,
            may_act: r.active && !r.deleted,
            token_version: r.token_version,
        })
    })
    .transpose()
}

/// The role a token's holder has now, or why the token no longer works.
pub fn role_for(standing: Option<Standing>, token_version: i64) -> Result<Role, ApiError> {
    match standing {
        Some(s) if s.may_act && s.token_version == token_version => Ok(s.role),
        Some(s) if s.may_act => Err(ApiError::invalid_token(
            "the access token was revoked (the user's password or role changed); sign in again",
        )),
        _ => Err(ApiError::invalid_token(
            "the user of this access token was deactivated or deleted",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(may_act: bool, token_version: i64) -> Option<Standing> {
        Some(Standing {
            role: Role::Manager,
            may_act,
            token_version,
        })
    }

    #[test]
    fn a_token_works_only_for_an_active_user_at_its_version_and_with_the_current_role() {
        assert_eq!(role_for(standing(true, 3), 3).unwrap(), Role::Manager);
        assert!(role_for(standing(true, 4), 3).is_err());
        assert!(role_for(standing(false, 3), 3).is_err());
        assert!(role_for(None, 0).is_err());
    }
}
