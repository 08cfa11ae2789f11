//! Failed logins, counted per client network and per account, with delays that double.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{ApiError, ErrorKind};
use crate::poster::network;

/// Keys one map remembers; past it, keys whose delay has run out are forgotten first.
const MAX_KEYS: usize = 65_536;

/// A key's failures are forgotten this long after its last one.
const FORGET_AFTER: Duration = Duration::from_secs(86_400);

struct Entry {
    failures: u32,
    last: Instant,
    until: Instant,
}

struct Failures<K> {
    entries: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Failures<K> {
    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let entry = self.entries.get(key)?;
        (entry.until > now).then(|| entry.until - now)
    }

    /// Counts a failure; past `free` of them, each sets a delay twice the last.
    fn fail(&mut self, key: &K, now: Instant, free: u32, max: Duration) {
        if self.entries.len() >= MAX_KEYS && !self.entries.contains_key(key) {
            self.entries
                .retain(|_, e| e.until > now && now.duration_since(e.last) < FORGET_AFTER);
            if self.entries.len() >= MAX_KEYS {
                // Every tracked key is serving a delay: forget the oldest failure first.
                if let Some(oldest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.last)
                    .map(|(k, _)| k.clone())
                {
                    self.entries.remove(&oldest);
                }
            }
        }
        let entry = self.entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            last: now,
            until: now,
        });
        if now.duration_since(entry.last) >= FORGET_AFTER {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last = now;
        if entry.failures > free {
            let doublings = (entry.failures - free - 1).min(30);
            let delay = Duration::from_secs(1u64 << doublings).min(max);
            entry.until = now + delay;
        }
    }

    fn clear(&mut self, key: &K) {
        self.entries.remove(key);
    }
}

/// The login guard. A success clears the account's failures (not the address's: one right
/// password must not buy another round of guesses at other accounts).
pub struct Throttle {
    free: u32,
    max: Duration,
    addresses: Mutex<Failures<IpAddr>>,
    accounts: Mutex<Failures<String>>,
}

impl Throttle {
    pub fn new(free: u32, max_delay_secs: u64) -> Throttle {
        Throttle {
            free,
            max: Duration::from_secs(max_delay_secs),
            addresses: Mutex::new(Failures {
                entries: HashMap::new(),
            }),
            accounts: Mutex::new(Failures {
                entries: HashMap::new(),
            }),
        }
    }

    /// 429 `too_many_attempts` with the seconds to wait, while either key is delayed.
    pub fn check(&self, client: IpAddr, account: &str, now: Instant) -> Result<(), ApiError> {
        let by_address = self.addresses.lock().unwrap().wait(&network(client), now);
        let by_account = self.accounts.lock().unwrap().wait(&account.to_owned(), now);
        match by_address.max(by_account) {
            None => Ok(()),
            Some(wait) => {
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                Err(ApiError::new(
                    ErrorKind::TooManyAttempts,
                    format!(
                        "Too many failed logins; try again in {secs} second{}.",
                        if secs == 1 { "" } else { "s" }
                    ),
                )
                .with_retry_after(secs))
            }
        }
    }

    pub fn failed(&self, client: IpAddr, account: &str, now: Instant) {
        let (free, max) = (self.free, self.max);
        self.addresses
            .lock()
            .unwrap()
            .fail(&network(client), now, free, max);
        self.accounts
            .lock()
            .unwrap()
            .fail(&account.to_owned(), now, free, max);
    }

    pub fn succeeded(&self, account: &str) {
        self.accounts.lock().unwrap().clear(&account.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_attempts_and_double() {
        let throttle = Throttle::new(2, 8);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        let wait = |client, account: &str, at| {
            throttle
                .check(client, account, at)
                .err()
                .map(|e| e.retry_after.unwrap())
        };
        throttle.failed(a, "alice", t0);
        throttle.failed(a, "alice", t0);
        assert_eq!(wait(a, "alice", t0), None, "two free failures");
        throttle.failed(a, "alice", t0);
        assert_eq!(wait(a, "alice", t0), Some(1));
        assert_eq!(
            wait(b, "alice", t0),
            Some(1),
            "the account is delayed from anywhere"
        );
        assert_eq!(
            wait(a, "bob", t0),
            Some(1),
            "the address is delayed for any account"
        );
        assert_eq!(wait(b, "bob", t0), None);
        let steps = [(4, 2), (5, 4), (6, 8), (7, 8)];
        for (failures, expected) in steps {
            throttle.failed(a, "alice", t0);
            assert_eq!(
                wait(a, "alice", t0),
                Some(expected),
                "after {failures} failures"
            );
        }
        let later = t0 + Duration::from_secs(9);
        assert_eq!(wait(a, "alice", later), None, "the delay runs out");
        throttle.succeeded("alice");
        assert_eq!(wait(b, "alice", t0), None, "a success clears the account");
        assert_eq!(wait(a, "bob", t0), Some(8), "but not the address");
    }
}
