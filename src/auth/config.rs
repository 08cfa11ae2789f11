//! The `[accounts]` section of the config: signup, admins, sessions, password hashing, throttling.

use std::path::PathBuf;

use serde::Deserialize;

/// Who may create an account through `POST /auth/signup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signup {
    /// Nobody, except the usernames listed in `admins`.
    Closed,
    /// The usernames listed in `whitelist` or `admins`.
    Whitelist,
    /// Anyone.
    Open,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsConfig {
    pub signup: Signup,
    /// Usernames that may sign up when `signup = "whitelist"`.
    pub whitelist: Vec<String>,
    /// Usernames that may always sign up and are admins whenever they sign up or log in.
    pub admins: Vec<String>,
    /// Days a session lives without being used; each use renews it. Fractions are allowed.
    pub session_idle_days: f64,
    /// The session cookie's name.
    pub cookie_name: String,
    /// Whether the cookie carries `Secure` (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// A file of at least 64 random bytes that signs the cookies. None: `cookie.key` in the data
    /// directory, created at first start.
    pub cookie_key_file: Option<PathBuf>,
    /// The shortest password accepted, in characters.
    pub min_password_chars: u32,
    /// Argon2id memory cost, in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id passes over the memory.
    pub argon2_iterations: u32,
    /// Argon2id lanes.
    pub argon2_parallelism: u32,
    /// Password hashes computed at once; further logins wait their turn.
    pub max_concurrent_hashes: u32,
    /// Failed logins allowed per client address and per account before delays start.
    pub login_free_attempts: u32,
    /// The longest delay a failed login imposes, in seconds; delays double up to it.
    pub login_max_delay_secs: u64,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            signup: Signup::Closed,
            whitelist: Vec::new(),
            admins: Vec::new(),
            session_idle_days: 30.0,
            cookie_name: "wani_session".into(),
            secure_cookies: false,
            cookie_key_file: None,
            min_password_chars: 8,
            // OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            max_concurrent_hashes: 2,
            login_free_attempts: 5,
            login_max_delay_secs: 900,
        }
    }
}

impl AccountsConfig {
    pub fn validate(&self) -> Result<(), String> {
        let idle = self.session_idle_days;
        if !(idle.is_finite() && idle * 86_400.0 >= 1.0 && idle <= 3650.0) {
            return Err(
                "[accounts] session_idle_days must be from 1 second (0.0000116) to 3650".into(),
            );
        }
        let cookie_ok = !self.cookie_name.is_empty()
            && self.cookie_name.len() <= 64
            && self
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !cookie_ok {
            return Err(
                "[accounts] cookie_name must be 1 to 64 letters, digits, `_` or `-`".into(),
            );
        }
        if !(1..=1024).contains(&self.min_password_chars) {
            return Err("[accounts] min_password_chars must be from 1 to 1024".into());
        }
        if !(8..=4 << 20).contains(&self.argon2_memory_kib) {
            return Err("[accounts] argon2_memory_kib must be from 8 to 4194304".into());
        }
        if !(1..=100).contains(&self.argon2_iterations) {
            return Err("[accounts] argon2_iterations must be from 1 to 100".into());
        }
        if !(1..=64).contains(&self.argon2_parallelism)
            || self.argon2_memory_kib < 8 * self.argon2_parallelism
        {
            return Err(
                "[accounts] argon2_parallelism must be from 1 to 64, with at least 8 KiB of \
                 argon2_memory_kib per lane"
                    .into(),
            );
        }
        if !(1..=256).contains(&self.max_concurrent_hashes) {
            return Err("[accounts] max_concurrent_hashes must be from 1 to 256".into());
        }
        if !(1..=1000).contains(&self.login_free_attempts) {
            return Err("[accounts] login_free_attempts must be from 1 to 1000".into());
        }
        if !(1..=86_400).contains(&self.login_max_delay_secs) {
            return Err("[accounts] login_max_delay_secs must be from 1 to 86400".into());
        }
        for (key, list) in [("whitelist", &self.whitelist), ("admins", &self.admins)] {
            for name in list {
                super::normalize_username(name).map_err(|e| {
                    format!(
                        "[accounts] {key}: `{name}` is not a valid username: {}",
                        e.message
                    )
                })?;
            }
        }
        Ok(())
    }

    /// The idle lifetime of a session, in milliseconds.
    pub fn session_idle_ms(&self) -> u64 {
        (self.session_idle_days * 86_400_000.0) as u64
    }

    fn listed(list: &[String], username: &str) -> bool {
        list.iter()
            .any(|n| super::normalize_username(n).is_ok_and(|n| n == username))
    }

    /// Whether the normalized `username` is listed in `admins`.
    pub fn is_admin(&self, username: &str) -> bool {
        Self::listed(&self.admins, username)
    }

    /// Whether the normalized `username` may sign up.
    pub fn may_sign_up(&self, username: &str) -> bool {
        self.is_admin(username)
            || match self.signup {
                Signup::Closed => false,
                Signup::Whitelist => Self::listed(&self.whitelist, username),
                Signup::Open => true,
            }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn section_parses_and_checks() {
        let config = Config::parse(
            "[accounts]\nsignup = \"whitelist\"\nwhitelist = [\"Alice\"]\nadmins = [\"root\"]\n\
             session_idle_days = 0.5",
        )
        .unwrap();
        let a = &config.accounts;
        assert!(a.may_sign_up("alice"));
        assert!(a.may_sign_up("root"));
        assert!(a.is_admin("root"));
        assert!(!a.may_sign_up("bob"));
        assert_eq!(a.session_idle_ms(), 43_200_000);
        let bad = [
            ("[accounts]\nsignup = \"maybe\"", "maybe"),
            ("[accounts]\nsession_idle_days = 0", "session_idle_days"),
            ("[accounts]\ncookie_name = \"a b\"", "cookie_name"),
            ("[accounts]\nadmins = [\"a/b\"]", "admins"),
            ("[accounts]\nargon2_memory_kib = 1", "argon2_memory_kib"),
            (
                "[accounts]\nmax_concurrent_hashes = 0",
                "max_concurrent_hashes",
            ),
            ("[accounts]\nsignupp = \"open\"", "signupp"),
        ];
        for (text, named) in bad {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(named), "{text}: {err}");
        }
        let closed = Config::default().accounts;
        assert!(!closed.may_sign_up("anyone"));
    }
}
