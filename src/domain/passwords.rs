//! argon2id password hashes (OWASP parameters: 19 MiB, 2 passes, 1 lane). Hashing runs on the
//! blocking pool so a burst of sign-ins cannot stall the async workers.

use crate::error::{AppError, AppResult};
use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};
use std::sync::OnceLock;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

fn hash_blocking(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::internal()
        })
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|_| AppError::internal())?
}

pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_blocking(&password, &hash))
        .await
        .unwrap_or(false)
}

/// Verifies against a throwaway hash, so an unknown email costs the same time as a known one
/// and response timing does not reveal which emails have accounts.
pub async fn burn_verification_time(password: String) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = match DUMMY.get() {
        Some(h) => h.clone(),
        None => {
            let fresh = hash_password(crate::domain::crypto::random_hex(16))
                .await
                .unwrap_or_default();
            DUMMY.get_or_init(|| fresh).clone()
        }
    };
    let _ = verify_password(password, hash).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_blocking("correct horse battery").unwrap();
        let b = hash_blocking("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_blocking("correct horse battery", &a));
        assert!(!verify_blocking("correct horse batterY", &a));
        assert!(!verify_blocking("anything", "not a hash"));
    }
}
