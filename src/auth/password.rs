//! Argon2id password hashing (PHC strings, parameters from the argon2 crate's
//! defaults: 19 MiB, 2 passes, 1 lane — OWASP's minimum recommendation).

use crate::http::ApiError;

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{Output, PasswordHash, PasswordHasher, SaltString, rand_core::OsRng},
};

pub const MIN_PASSWORD_LEN: usize = 12;

/// How long a sign-in waits for a free hashing slot before it is told to retry.
const HASH_QUEUE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Each Argon2 hash holds 19 MiB and a core for tens of milliseconds, so at
/// most one runs per core, each on a hashing thread of its own. A flood of
/// sign-ins queues for a slot (costing a few bytes each) instead of growing
/// the blocking pool to hundreds of threads; and because the same few threads
/// do every hash, the allocator keeps at most one 19 MiB block per thread
/// (measured: hashes spread over the blocking pool's threads kept 660 MB
/// resident after a flood of wrong passwords, one block per thread's arena).
struct Hashers {
    slots: tokio::sync::Semaphore,
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

type Job = Box<dyn FnOnce() + Send>;

fn hashers() -> &'static Hashers {
    static HASHERS: std::sync::OnceLock<Hashers> = std::sync::OnceLock::new();
    HASHERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (send, receive) = std::sync::mpsc::channel::<Job>();
        let receive = std::sync::Arc::new(std::sync::Mutex::new(receive));
        for i in 0..cores {
            let receive = receive.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = receive.lock().expect("hash queue").recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("a hashing thread starts");
        }
        Hashers {
            slots: tokio::sync::Semaphore::new(cores),
            jobs: std::sync::Mutex::new(send),
        }
    })
}

/// Runs one Argon2 computation on a hashing thread, in a bounded slot.
async fn in_hash_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let busy = || {
        ApiError::service_unavailable(
            "Too many sign-ins are being checked right now; retry in a moment.",
        )
        .with_header(actix_web::http::header::RETRY_AFTER, "1")
    };
    let hashers = hashers();
    let _slot = tokio::time::timeout(HASH_QUEUE_TIMEOUT, hashers.slots.acquire())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    hashers
        .jobs
        .lock()
        .expect("hash queue")
        .send(job)
        .map_err(|_| ApiError::internal("the hashing threads stopped"))?;
    result
        .await
        .map_err(|_| ApiError::internal("a hashing thread stopped"))
}

/// Hashes a new password (bounded; see [`hashers`]).
pub async fn hash(password: &str) -> Result<String, ApiError> {
    let password = password.to_string();
    in_hash_slot(move || hash_password(&password)).await
}

/// Checks a password against a PHC string (bounded; see [`hashers`]).
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

/// Checks a password against a PHC string. The Argon2 working memory (19 MiB
/// with our parameters) is this thread's own and reused by every check:
/// allocating it afresh each time left one such block behind in each of the
/// allocator's arenas.
pub fn verify_password(password: &str, phc: &str) -> bool {
    thread_local! {
        static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let needed = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let computed = MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < needed {
            memory.resize(needed, Block::new());
        }
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                &mut memory[..needed],
            )
            .is_ok()
    });
    // `Output` compares in constant time.
    computed && Output::new(&out).is_ok_and(|out| out == expected)
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
