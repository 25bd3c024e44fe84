//! Access tokens (HS256 JWTs) and the hashing of opaque secrets (refresh
//! tokens, API keys).

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Role;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// The user's token version when the token was issued (see `auth::standing`).
    #[serde(default)]
    pub ver: i64,
}

const ISSUER: &str = "rapport";
/// Clock skew tolerated between the node that issued a token and the one checking it.
const LEEWAY_SECS: i64 = 5;

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256 is accepted: a token claiming `alg: none` or any other
        // algorithm fails validation.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        // Expiry is checked against the server's clock (see `verify`), not
        // the library's reading of the system clock, so tests can choose the day.
        validation.validate_exp = false;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        role: Role,
        token_version: i64,
        now: DateTime<Utc>,
        ttl_secs: i64,
    ) -> String {
        let claims = Claims {
            sub: user_id,
            role,
            iat: now.timestamp(),
            exp: now.timestamp() + ttl_secs,
            iss: ISSUER.into(),
            ver: token_version,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding cannot fail")
    }

    /// Verifies a token; the error says in plain words why it was refused.
    pub fn verify(&self, token: &str) -> Result<Claims, &'static str> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => "the access token's signature is not valid",
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    "the access token must be signed with HS256"
                }
                _ => "the access token is malformed",
            })?;
        if claims.exp.saturating_add(LEEWAY_SECS) < crate::clock::now().timestamp() {
            return Err("the access token has expired; get a new one from /v1/auth/refresh");
        }
        Ok(claims)
    }
}

/// SHA-256 of a high-entropy secret, hex-encoded. Refresh tokens and API keys
/// are random 256-bit values, so a fast hash is safe for them (unlike
/// passwords) and keeps per-request key checks cheap.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    fn keys() -> JwtKeys {
        JwtKeys::new(b"test-secret-of-a-decent-length-0123456789")
    }

    #[test]
    fn an_issued_token_verifies() {
        let id = Uuid::now_v7();
        let token = keys().issue(id, Role::Agent, 0, Utc::now(), 900);
        let claims = keys().verify(&token).unwrap();
        assert_eq!(claims.sub, id);
        assert_eq!(claims.role, Role::Agent);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = keys().issue(
            Uuid::now_v7(),
            Role::Admin,
            0,
            Utc::now() - chrono::Duration::hours(1),
            900,
        );
        assert!(keys().verify(&token).unwrap_err().contains("expired"));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token =
            JwtKeys::new(b"another-secret").issue(Uuid::now_v7(), Role::Admin, 0, Utc::now(), 900);
        assert!(keys().verify(&token).unwrap_err().contains("signature"));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = serde_json::json!({"sub": Uuid::now_v7(), "role": "admin", "iat": 0, "exp": 4102444800i64, "iss": "rapport"});
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert!(keys().verify(&format!("{header}.{body}.")).is_err());
    }

    #[test]
    fn secrets_hash_deterministically() {
        assert_eq!(hash_secret("abc"), hash_secret("abc"));
        assert_ne!(hash_secret("abc"), hash_secret("abd"));
        assert_eq!(hash_secret("abc").len(), 64);
    }
}
