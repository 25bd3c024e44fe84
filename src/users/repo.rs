use uuid::Uuid;

use super::model::{UserPatch, UserRow};
use crate::audit::{self, Actor, Change};
use crate::{
    auth::{Role, password},
    db::{Db, Tx, is_unique_violation, new_id, now},
    http::{
        ApiError, etag,
        patch::{Patch, refuse_nulls},
    },
    on_db, on_tx,
};

const COLUMNS: &str = "id, email, display_name, role, active, password_hash, version, token_version, created_at, updated_at";

pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password: &'a str,
    pub active: bool,
}

fn duplicate_email(email: &str) -> ApiError {
    ApiError::conflict(format!("A user with the email {email} already exists."))
}

/// Creates a user and its audit event, in one transaction.
pub async fn create(db: &Db, actor: &Actor, user: NewUser<'_>) -> Result<UserRow, ApiError> {
    let hash = password::hash(user.password).await?;
    let now = now();
    let mut tx = db.begin().await?;
    let row = on_tx!(&mut tx, c => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (id, email, display_name, role, active, password_hash, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)
         RETURNING {COLUMNS}"
    ))).bind(new_id()).bind(user.email.trim().to_lowercase()).bind(user.display_name.trim()).bind(user.role.as_str())
     .bind(user.active).bind(hash).bind(now).fetch_one(&mut **c).await);
    let row = row.map_err(|e| {
        if is_unique_violation(&e) {
            duplicate_email(user.email)
        } else {
            e.into()
        }
    })?;
    let created = row.clone().into_user();
    audit::record(
        &mut tx,
        actor,
        "create",
        "user",
        row.id,
        Change::created(&created),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn count(db: &Db) -> Result<i64, ApiError> {
    Ok(
        on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE deleted_at IS NULL").fetch_one(pool).await)?,
    )
}

pub async fn get(db: &Db, id: Uuid) -> Result<UserRow, ApiError> {
    let row: Option<UserRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL"
    ))).bind(id).fetch_optional(pool).await)?;
    row.ok_or_else(|| ApiError::not_found("user", id))
}

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<UserRow>, ApiError> {
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE lower(email) = $1 AND deleted_at IS NULL"
    ))).bind(email.trim().to_lowercase()).fetch_optional(pool).await)?,
    )
}

pub async fn list(db: &Db, after: Option<Uuid>, limit: i64) -> Result<Vec<UserRow>, ApiError> {
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE deleted_at IS NULL AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
    ))).bind(after).bind(limit + 1).fetch_all(pool).await)?,
    )
}

/// Refuses a change that would leave no active admin. On PostgreSQL the admin
/// rows are locked first, so two concurrent demotions cannot both pass; SQLite
/// has a single writer, which serialises them anyway.
async fn ensure_another_admin(tx: &mut Tx, id: Uuid) -> Result<(), ApiError> {
    let others: i64 = on_tx!(tx, c => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active AND deleted_at IS NULL AND id <> $1"
        ).bind(id).fetch_one(&mut **c).await
    })?;
    if others == 0 {
        return Err(ApiError::conflict(
            "This is the last active admin: make another user an admin first.",
        ));
    }
    Ok(())
}

/// Applies a patch; the change and its audit event commit together.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
    patch: UserPatch,
) -> Result<UserRow, ApiError> {
    // No field of a user can be cleared: every null is refused before any work.
    let mut errors = Vec::new();
    patch.email.refuse_null("email", &mut errors);
    patch.display_name.refuse_null("display_name", &mut errors);
    patch.role.refuse_null("role", &mut errors);
    patch.active.refuse_null("active", &mut errors);
    patch.password.refuse_null("password", &mut errors);
    refuse_nulls(errors)?;
    let changes_password = patch.password.is_sent();
    // Hashed before the transaction: Argon2 takes tens of milliseconds.
    let new_hash = match patch.password.value() {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let mut tx = db.begin().await?;
    lock_admins(&mut tx).await?;
    let current: UserRow = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL"
    ))).bind(id).fetch_optional(&mut **c).await)?
    .ok_or_else(|| ApiError::not_found("user", id))?;
    etag::check(expected, current.version)?;
    let loses_admin = current.role() == Role::Admin
        && current.active
        && (patch.role.value().is_some_and(|r| *r != Role::Admin)
            || patch.active == Patch::Value(false));
    if loses_admin {
        ensure_another_admin(&mut tx, id).await?;
    }
    let email = patch
        .email
        .value()
        .map(|e| e.trim().to_lowercase())
        .unwrap_or(current.email.clone());
    let display_name = patch
        .display_name
        .value()
        .map(|n| n.trim().to_string())
        .unwrap_or(current.display_name.clone());
    let role = patch.role.unwrap_or(current.role());
    let active = patch.active.unwrap_or(current.active);
    // A new password, role or deactivation ends every access token issued before.
    let revokes_tokens =
        new_hash.is_some() || role != current.role() || (current.active && !active);
    let password_hash = new_hash.unwrap_or(current.password_hash.clone());
    let row = on_tx!(&mut tx, c => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE users SET email = $1, display_name = $2, role = $3, active = $4, password_hash = $5,
                version = version + 1, updated_at = $6, token_version = token_version + $9
         WHERE id = $7 AND version = $8
         RETURNING {COLUMNS}"
    ))).bind(&email).bind(display_name).bind(role.as_str()).bind(active).bind(password_hash).bind(now())
     .bind(id).bind(current.version).bind(i64::from(revokes_tokens)).fetch_optional(&mut **c).await)
        .map_err(|e| if is_unique_violation(&e) { duplicate_email(&email) } else { e.into() })?
        .ok_or_else(|| etag::stale(current.version + 1))?;
    if changes_password || !active {
        revoke_refresh_tokens(&mut tx, id).await?;
    }
    let change = Change::diff(&current.into_user(), &row.clone().into_user());
    audit::record(&mut tx, actor, "update", "user", id, change).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn delete(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    lock_admins(&mut tx).await?;
    let current: UserRow = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL"
    ))).bind(id).fetch_optional(&mut **c).await)?
    .ok_or_else(|| ApiError::not_found("user", id))?;
    etag::check(expected, current.version)?;
    if current.role() == Role::Admin && current.active {
        ensure_another_admin(&mut tx, id).await?;
    }
    let now = now();
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE users SET deleted_at = $1, active = FALSE, updated_at = $1, version = version + 1,
                token_version = token_version + 1 WHERE id = $2"
    ).bind(now).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    revoke_refresh_tokens(&mut tx, id).await?;
    audit::record(&mut tx, actor, "delete", "user", id, Change::none()).await?;
    tx.commit().await?;
    Ok(())
}

async fn lock_admins(tx: &mut Tx) -> Result<(), ApiError> {
    tx.lock_rows(
        "SELECT id FROM users WHERE role = 'admin' AND deleted_at IS NULL FOR UPDATE",
        None,
    )
    .await?;
    Ok(())
}

async fn revoke_refresh_tokens(tx: &mut Tx, user_id: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now()).bind(user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
