//! First start: create an admin when there is no user yet.

use crate::{
    auth::{Role, random_token},
    config::Settings,
    db::Db,
    http::ApiError,
    users::repo::{self, NewUser},
};

pub const DEFAULT_ADMIN_EMAIL: &str = "admin@localhost";

pub async fn ensure_admin(db: &Db, settings: &Settings) -> Result<(), ApiError> {
    if repo::count(db).await? > 0 {
        return Ok(());
    }
    let email = settings
        .admin_email
        .clone()
        .unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_string());
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.clone(), false),
        None => (random_token(18), true),
    };
    let created = repo::create(
        db,
        &crate::audit::Actor::system(),
        NewUser {
            email: &email,
            display_name: "Administrator",
            role: Role::Admin,
            password: &password,
            active: true,
        },
    )
    .await;
    match created {
        Ok(_) if generated => {
            println!(
                "Created the first admin: {email}\n  password: {password}\n  (shown once; change it with PATCH /v1/users/{{id}})"
            );
        }
        Ok(_) => println!("Created the first admin: {email}"),
        // Another node created the first user at the same moment.
        Err(_) if repo::count(db).await? > 0 => {}
        Err(err) => return Err(err),
    }
    Ok(())
}
