//! Argon2id password hashing (PHC strings, parameters from the argon2 crate's
//! defaults: 19 MiB, 2 passes, 1 lane — OWASP's minimum recommendation).

use crate::http::ApiError;

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};

pub const MIN_PASSWORD_LEN: usize = 12;

/// How long a sign-in waits for a free hashing slot before it is told to retry.
const HASH_QUEUE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Each Argon2 hash holds 19 MiB and a core for tens of milliseconds, so at
/// most one runs per core: a flood of sign-ins queues here (costing a few
/// bytes each) instead of growing the blocking pool to hundreds of threads
/// and gigabytes of memory.
fn hash_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Runs one Argon2 computation on the blocking pool, in a bounded slot.
async fn in_hash_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let busy = || {
        ApiError::service_unavailable(
            "Too many sign-ins are being checked right now; retry in a moment.",
        )
        .with_header(actix_web::http::header::RETRY_AFTER, "1")
    };
    let _slot = tokio::time::timeout(HASH_QUEUE_TIMEOUT, hash_slots().acquire())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    actix_web::web::block(work)
        .await
        .map_err(ApiError::internal)
}

/// Hashes a new password (bounded; see [`hash_slots`]).
pub async fn hash(password: &str) -> Result<String, ApiError> {
    let password = password.to_string();
    in_hash_slot(move || hash_password(&password)).await
}

/// Checks a password against a PHC string (bounded; see [`hash_slots`]).
pub async fn verify(password: String, phc: String) -> Result<bool, ApiError> {
    in_hash_slot(move || verify_password(&password, &phc)).await
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password, verified against when the email is unknown so
/// that a failed login takes as long whether or not the account exists.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&super::random_token(24)))
}

/// Why a password is refused, or `None` when it is acceptable.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Some(format!(
            "must be at least {MIN_PASSWORD_LEN} characters long"
        ));
    }
    if password.len() > 1024 {
        return Some("must be at most 1024 bytes long".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let phc = hash_password("correct horse battery");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
    }

    #[test]
    fn the_same_password_hashes_differently() {
        assert_ne!(
            hash_password("correct horse battery"),
            hash_password("correct horse battery")
        );
    }

    #[test]
    fn a_garbled_hash_never_verifies() {
        assert!(!verify_password("anything", "not-a-phc-string"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("long enough pass").is_none());
    }
}
