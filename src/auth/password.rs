//! Password hashing with argon2id on blocking threads, a few at a time.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use super::AccountsConfig;
use crate::error::{ApiError, ApiResult};

/// Hashes and verifies passwords. Each hash takes `argon2_memory_kib` of memory and most of a
/// core, so at most `max_concurrent_hashes` run at once: a burst of logins waits its turn
/// instead of stalling the server or exhausting its memory.
pub struct Hasher {
    params: Params,
    slots: Arc<Semaphore>,
    /// A hash of nothing anyone knows, verified when an account does not exist, so that a
    /// failed login costs the same time either way.
    decoy: String,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    Wrong,
    Right,
    /// Right, but hashed with other parameters than the config's: store this new hash.
    RightRehashed(String),
}

impl Hasher {
    pub fn new(config: &AccountsConfig) -> Result<Hasher, String> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map_err(|e| format!("[accounts] argon2 parameters: {e}"))?;
        let decoy = hash_with(&params, &random_text())
            .map_err(|e| format!("[accounts] argon2 parameters: {e}"))?;
        Ok(Hasher {
            params,
            slots: Arc::new(Semaphore::new(config.max_concurrent_hashes as usize)),
            decoy,
        })
    }

    /// A new hash of `password` in PHC string form.
    pub async fn hash(&self, password: &str) -> ApiResult<String> {
        let (params, password) = (self.params.clone(), password.to_owned());
        self.run(move || hash_with(&params, &password))
            .await?
            .map_err(|e| ApiError::internal("password_hash_failed", e))
    }

    /// Checks `password` against `stored`, or against the decoy when there is no account.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> ApiResult<Verified> {
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.decoy).to_owned();
        let (params, password) = (self.params.clone(), password.to_owned());
        self.run(move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Verified::Wrong;
            };
            if argon(&params)
                .verify_password(password.as_bytes(), &parsed)
                .is_err()
                || !known
            {
                return Verified::Wrong;
            }
            let current = Params::try_from(&parsed).ok();
            let same = parsed.algorithm.as_str() == "argon2id"
                && current.is_some_and(|p| {
                    p.m_cost() == params.m_cost()
                        && p.t_cost() == params.t_cost()
                        && p.p_cost() == params.p_cost()
                });
            if same {
                return Verified::Right;
            }
            match hash_with(&params, &password) {
                Ok(new) => Verified::RightRehashed(new),
                Err(_) => Verified::Right,
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| ApiError::internal("hash_slots_closed", e))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| ApiError::internal("hash_task_failed", e))
    }
}

fn argon(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the OS random source works");
    let salt = SaltString::encode_b64(&salt)?;
    Ok(argon(params)
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

fn random_text() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(memory: u32, iterations: u32) -> AccountsConfig {
        AccountsConfig {
            argon2_memory_kib: memory,
            argon2_iterations: iterations,
            ..AccountsConfig::default()
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_rehash_when_parameters_change() {
        let old = Hasher::new(&config(64, 1)).unwrap();
        let hash = old.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct"));
        assert_eq!(
            old.verify("correct horse", Some(&hash)).await.unwrap(),
            Verified::Right
        );
        assert_eq!(
            old.verify("correct hors", Some(&hash)).await.unwrap(),
            Verified::Wrong
        );
        assert_eq!(
            old.verify("correct horse", None).await.unwrap(),
            Verified::Wrong
        );
        assert_eq!(
            old.verify("x", Some("not a hash")).await.unwrap(),
            Verified::Wrong
        );

        let new = Hasher::new(&config(128, 2)).unwrap();
        let Verified::RightRehashed(rehashed) =
            new.verify("correct horse", Some(&hash)).await.unwrap()
        else {
            panic!("a hash with old parameters is rehashed");
        };
        assert!(rehashed.contains("m=128,t=2"), "{rehashed}");
        assert_eq!(
            new.verify("correct horse", Some(&rehashed)).await.unwrap(),
            Verified::Right
        );
        assert_eq!(
            new.verify("wrong", Some(&hash)).await.unwrap(),
            Verified::Wrong
        );
    }
}
