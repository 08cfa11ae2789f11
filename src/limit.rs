//! Per-key token buckets in bounded memory, and the deletion-password guard built on them.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{ApiError, ErrorKind};
use crate::poster::network;

/// Keys a bucket map remembers at most. A full map forgets the key touched longest ago, whose
/// bucket has usually refilled anyway; at this size a map stays near a few MiB.
pub const MAX_TRACKED_KEYS: usize = 65_536;

/// Token buckets, one per key: each holds up to `burst` tokens and refills at `burst` tokens
/// per `window`. Unknown keys start full, so memory only goes to keys that spent something.
pub struct Buckets<K> {
    burst: f64,
    per_sec: f64,
    max_keys: usize,
    entries: HashMap<K, Entry>,
    /// Last-touched order, oldest first, for eviction in O(log n).
    order: BTreeMap<u64, K>,
    clock: u64,
}

struct Entry {
    tokens: f64,
    at: Instant,
    touched: u64,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    pub fn new(burst: u32, window: Duration, max_keys: usize) -> Buckets<K> {
        let burst = f64::from(burst.max(1));
        Buckets {
            burst,
            per_sec: burst / window.as_secs_f64().max(0.001),
            max_keys: max_keys.max(1),
            entries: HashMap::new(),
            order: BTreeMap::new(),
            clock: 0,
        }
    }

    /// Tokens the key holds at `now`.
    fn level(&self, key: &K, now: Instant) -> f64 {
        match self.entries.get(key) {
            None => self.burst,
            Some(e) => {
                let refill = now.saturating_duration_since(e.at).as_secs_f64() * self.per_sec;
                (e.tokens + refill).min(self.burst)
            }
        }
    }

    /// Seconds until the key holds a whole token again (0 when it holds one now).
    pub fn wait_secs(&self, key: &K, now: Instant) -> u64 {
        let missing = 1.0 - self.level(key, now);
        if missing <= 0.0 {
            0
        } else {
            (missing / self.per_sec).ceil().max(1.0) as u64
        }
    }

    /// Adds `delta` tokens (negative to spend), remembering the key as touched now.
    fn adjust(&mut self, key: &K, now: Instant, delta: f64) {
        let tokens = (self.level(key, now) + delta).min(self.burst);
        self.clock += 1;
        let touched = self.clock;
        if let Some(old) = self.entries.get(key).map(|e| e.touched) {
            self.order.remove(&old);
        } else if self.entries.len() >= self.max_keys {
            if let Some((_, oldest)) = self.order.pop_first() {
                self.entries.remove(&oldest);
            }
        }
        self.order.insert(touched, key.clone());
        let entry = Entry {
            tokens,
            at: now,
            touched,
        };
        self.entries.insert(key.clone(), entry);
    }

    pub fn take(&mut self, key: &K, now: Instant) {
        self.adjust(key, now, -1.0);
    }

    pub fn give_back(&mut self, key: &K, now: Instant) {
        self.adjust(key, now, 1.0);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The `delete_attempts_*` config keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteLimits {
    pub per_address: u32,
    pub per_post: u32,
    pub window: Duration,
}

/// Limits deletion-password guesses per client network (an IPv4 address or an IPv6 /64) and
/// per post (from every address together). Each attempt takes a token from both buckets before
/// it reaches the writer, so a burst of parallel guesses is bounded too; an attempt whose answer
/// is not `wrong_password` gives its tokens back, so the limits count wrong guesses only.
pub struct DeleteGuard {
    buckets: Mutex<GuardBuckets>,
}

/// The guard's two bucket maps, under one lock so an attempt takes from both or neither.
struct GuardBuckets {
    by_client: Buckets<IpAddr>,
    by_post: Buckets<(String, u64)>,
}

/// Tokens taken for one attempt; hand it back with [`DeleteGuard::give_back`] unless the
/// password was wrong.
pub struct Attempt {
    client: IpAddr,
    post: (String, u64),
}

impl DeleteGuard {
    pub fn new(limits: DeleteLimits) -> DeleteGuard {
        DeleteGuard {
            buckets: Mutex::new(GuardBuckets {
                by_client: Buckets::new(limits.per_address, limits.window, MAX_TRACKED_KEYS),
                by_post: Buckets::new(limits.per_post, limits.window, MAX_TRACKED_KEYS),
            }),
        }
    }

    /// Takes a token for the client and one for the post, or refuses with 429 `rate_limited`
    /// and the seconds until both buckets hold one again; a refusal takes nothing.
    pub fn try_take(&self, client: IpAddr, board: &str, no: u64) -> Result<Attempt, ApiError> {
        self.try_take_at(client, board, no, Instant::now())
    }

    fn try_take_at(
        &self,
        client: IpAddr,
        board: &str,
        no: u64,
        now: Instant,
    ) -> Result<Attempt, ApiError> {
        let client = network(client);
        let post = (board.to_owned(), no);
        let mut guard = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let GuardBuckets { by_client, by_post } = &mut *guard;
        let wait_client = by_client.wait_secs(&client, now);
        let wait_post = by_post.wait_secs(&post, now);
        if wait_client > 0 || wait_post > 0 {
            let message = if wait_client >= wait_post {
                format!(
                    "Too many wrong deletion passwords from this address; try again in \
                     {wait_client} seconds."
                )
            } else {
                format!(
                    "Too many wrong deletion passwords for post {no} on /{board}/; try again \
                     in {wait_post} seconds."
                )
            };
            let retry = wait_client.max(wait_post);
            return Err(ApiError::new(ErrorKind::RateLimited, message).with_retry_after(retry));
        }
        by_client.take(&client, now);
        by_post.take(&post, now);
        Ok(Attempt { client, post })
    }

    /// Returns an attempt's tokens: it was not a wrong guess.
    pub fn give_back(&self, attempt: Attempt) {
        let now = Instant::now();
        let mut guard = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let GuardBuckets { by_client, by_post } = &mut *guard;
        by_client.give_back(&attempt.client, now);
        by_post.give_back(&attempt.post, now);
    }
}

/// Reports one client network may file per [`REPORT_WINDOW`]; the bucket refills evenly.
pub const REPORTS_PER_CLIENT: u32 = 10;
pub const REPORT_WINDOW: Duration = Duration::from_secs(600);

/// Limits reports per client network (an IPv4 address or an IPv6 /64), in bounded memory, so
/// nobody floods the review queue. The limits start afresh at restart.
pub struct ReportGuard {
    buckets: Mutex<Buckets<IpAddr>>,
}

impl Default for ReportGuard {
    fn default() -> Self {
        ReportGuard {
            buckets: Mutex::new(Buckets::new(
                REPORTS_PER_CLIENT,
                REPORT_WINDOW,
                MAX_TRACKED_KEYS,
            )),
        }
    }
}

impl ReportGuard {
    /// Takes a token for the client, or refuses with 429 `rate_limited` and the seconds until
    /// it holds one again.
    pub fn try_take(&self, client: IpAddr) -> Result<(), ApiError> {
        let client = network(client);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let wait = buckets.wait_secs(&client, now);
        if wait > 0 {
            let message =
                format!("Too many reports from your address; try again in {wait} seconds.");
            return Err(ApiError::new(ErrorKind::RateLimited, message).with_retry_after(wait));
        }
        buckets.take(&client, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_spend_refill_and_evict() {
        let t0 = Instant::now();
        let mut b: Buckets<u32> = Buckets::new(3, Duration::from_secs(30), 2);
        // (seconds after t0, action, expected wait afterwards)
        let steps: [(u64, &str, u64); 7] = [
            (0, "take", 0),
            (0, "take", 0),
            (0, "take", 10), // empty: one token per 10 s
            (5, "none", 5),
            (10, "none", 0),
            (10, "take", 10),
            (10, "give", 0),
        ];
        for (at, action, wait) in steps {
            let now = t0 + Duration::from_secs(at);
            match action {
                "take" => b.take(&1, now),
                "give" => b.give_back(&1, now),
                _ => {}
            }
            assert_eq!(b.wait_secs(&1, now), wait, "{at} s, {action}");
        }
        b.take(&2, t0);
        b.take(&3, t0);
        assert_eq!(b.len(), 2, "the map stays within its capacity");
        assert_eq!(b.wait_secs(&1, t0), 0, "the oldest key was forgotten");
        b.give_back(&2, t0);
        b.give_back(&2, t0);
        assert_eq!(b.level(&2, t0), 3.0, "never above the burst");
    }

    #[test]
    fn the_guard_limits_addresses_networks_and_posts() {
        let guard = DeleteGuard::new(DeleteLimits {
            per_address: 2,
            per_post: 2,
            window: Duration::from_secs(60),
        });
        let now = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "198.51.100.7".parse().unwrap();
        let third: IpAddr = "198.51.100.8".parse().unwrap();
        assert!(guard.try_take_at(a, "b", 1, now).is_ok());
        assert!(guard.try_take_at(same_64, "b", 2, now).is_ok());
        let refused = guard.try_take_at(a, "b", 3, now).err().unwrap();
        assert_eq!(refused.kind, ErrorKind::RateLimited);
        assert_eq!(refused.retry_after, Some(30));
        assert!(guard.try_take_at(other, "b", 1, now).is_ok());
        let refused = guard.try_take_at(third, "b", 1, now).err().unwrap();
        assert!(
            refused.message.contains("post 1 on /b/"),
            "{}",
            refused.message
        );
        assert!(
            guard.try_take_at(third, "b", 2, now).is_ok(),
            "another post"
        );
        let given = guard.try_take_at(other, "c", 1, now).unwrap();
        guard.give_back(given);
        assert!(guard.try_take_at(other, "c", 1, now).is_ok(), "given back");
        assert!(
            guard.try_take_at(other, "c", 2, now).is_err(),
            "and spent again"
        );
    }
}
