use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::{auth::Role, http::patch::Patch};

/// A staff member who uses the CRM.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "email": "li.wei@firm.example", "display_name": "Li Wei",
    "role": "agent", "active": true, "version": 1,
    "created_at": "2026-11-02T09:30:00Z", "updated_at": "2026-11-02T09:30:00Z"
}))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Inactive users cannot sign in.
    pub active: bool,
    /// Increases on every change; sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
    pub version: i64,
    /// Moved on by every change that ends the user's access tokens (see `auth::standing`).
    pub token_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRow {
    pub fn role(&self) -> Role {
        self.role
    }

    pub fn into_user(self) -> User {
        User {
            role: self.role(),
            id: self.id,
            email: self.email,
            display_name: self.display_name,
            active: self.active,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "li.wei@firm.example", "display_name": "Li Wei", "role": "agent", "password": "a long passphrase"}))]
pub struct UserIn {
    /// Unique among users (case-insensitive).
    #[validate(
        email(message = "must be an email address such as ana@example.com"),
        length(max = 254)
    )]
    pub email: String,
    #[validate(length(min = 1, max = 200))]
    pub display_name: String,
    pub role: Role,
    /// At least 12 characters.
    #[validate(length(min = 12, max = 1024, message = "must be 12 to 1024 characters long"))]
    pub password: String,
    /// Defaults to true.
    pub active: Option<bool>,
}

/// Changes to a user (JSON merge patch: absent fields stay as they are;
/// every field of a user is required, so none can be cleared with `null`).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"role": "manager"}))]
pub struct UserPatch {
    #[schema(value_type = String)]
    #[validate(
        email(message = "must be an email address such as ana@example.com"),
        length(max = 254)
    )]
    pub email: Patch<String>,
    #[schema(value_type = String)]
    #[validate(length(min = 1, max = 200))]
    pub display_name: Patch<String>,
    #[schema(value_type = Role)]
    pub role: Patch<Role>,
    #[schema(value_type = bool)]
    pub active: Patch<bool>,
    /// A new password, at least 12 characters.
    #[schema(value_type = String)]
    #[validate(length(min = 12, max = 1024, message = "must be 12 to 1024 characters long"))]
    pub password: Patch<String>,
}
