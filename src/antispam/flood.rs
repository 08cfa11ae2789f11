//! Flood control in memory: cooldowns per client network, bodies already posted on a board,
//! and new threads per minute per board.
//!
//! Each check claims what it allows at once (the post's time, the body, a thread slot), so
//! parallel requests cannot all pass before the first is recorded; a post that fails later
//! hands its claims back ([`Flood::undo`]), so a refused post costs its poster no cooldown.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::bounded::{Bounded, MAX_KEYS};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::model::Board;

/// What a cooldown times: 4chan's `threads`, `replies` and `images`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    Threads,
    Replies,
    Images,
}

impl Lane {
    fn secs(self, board: &Board) -> u32 {
        match self {
            Lane::Threads => board.cooldown_threads_secs,
            Lane::Replies => board.cooldown_replies_secs,
            Lane::Images => board.cooldown_images_secs,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Lane::Threads => "a new thread",
            Lane::Replies => "a reply",
            Lane::Images => "a reply with files",
        }
    }
}

/// Boards whose thread window is remembered; more boards than this is no real server.
const MAX_BOARDS: usize = 4096;

/// The window of [`Board::max_threads_per_minute`].
const MINUTE: Duration = Duration::from_secs(60);

/// The first bytes of a body's SHA-256: enough to tell bodies apart, small per entry.
type BodyHash = [u8; 16];

pub struct Flood {
    /// When each network last posted in each lane on each board.
    last: Bounded<(String, IpAddr, Lane), Instant>,
    /// When each body was last posted on each board.
    bodies: Bounded<(String, BodyHash), Instant>,
    /// The new threads of each board within the last minute, oldest first.
    threads: Bounded<String, VecDeque<Instant>>,
}

/// A claim to hand back when the post fails.
#[derive(Debug)]
pub enum Undo {
    Last {
        key: (String, IpAddr, Lane),
        before: Option<Instant>,
        set: Instant,
    },
    Body {
        key: (String, BodyHash),
        before: Option<Instant>,
        set: Instant,
    },
    Thread {
        board: String,
        at: Instant,
    },
}

/// Seconds from `now` until `since + window`, rounded up so a client that waits them is let in.
fn remaining(since: Instant, window: Duration, now: Instant) -> Option<u64> {
    let elapsed = now.saturating_duration_since(since);
    (elapsed < window).then(|| (window - elapsed).as_secs_f64().ceil().max(1.0) as u64)
}

/// A body as compared: case folded, runs of whitespace as one space, trimmed. Empty: nothing
/// to compare (a post of files alone).
pub fn body_key(body: &str) -> Option<BodyHash> {
    let folded = body
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if folded.is_empty() {
        return None;
    }
    let digest = Sha256::digest(folded.as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    Some(key)
}

impl Flood {
    pub fn new() -> Flood {
        Flood::with_cap(MAX_KEYS)
    }

    fn with_cap(cap: usize) -> Flood {
        Flood {
            last: Bounded::new(cap),
            bodies: Bounded::new(cap),
            threads: Bounded::new(MAX_BOARDS),
        }
    }

    /// Claims `lane` for `network` on `board`, or refuses with 429 `cooldown` and the seconds
    /// left.
    pub fn cooldown(
        &mut self,
        board: &Board,
        network: IpAddr,
        lane: Lane,
        now: Instant,
    ) -> ApiResult<Option<Undo>> {
        let secs = lane.secs(board);
        if secs == 0 {
            return Ok(None);
        }
        let key = (board.slug.clone(), network, lane);
        let before = self.last.get(&key).copied();
        if let Some(wait) = before.and_then(|at| remaining(at, secs_of(secs), now)) {
            let message = format!(
                "You posted {} on /{}/ moments ago; wait {wait} more seconds (the board's \
                 cooldown is {secs} seconds).",
                lane.what(),
                board.slug
            );
            return Err(ApiError::new(ErrorKind::Cooldown, message).with_retry_after(wait));
        }
        self.last.insert(key.clone(), now);
        Ok(Some(Undo::Last {
            key,
            before,
            set: now,
        }))
    }

    /// Claims `body` on `board`, or refuses with 429 `duplicate_text` when anyone posted it
    /// there within the board's window.
    pub fn body(&mut self, board: &Board, body: &str, now: Instant) -> ApiResult<Option<Undo>> {
        let window = board.duplicate_window_secs;
        let Some(hash) = body_key(body).filter(|_| window > 0) else {
            return Ok(None);
        };
        let key = (board.slug.clone(), hash);
        let before = self.bodies.get(&key).copied();
        if let Some(wait) = before.and_then(|at| remaining(at, secs_of(window), now)) {
            let message = format!(
                "This text was just posted on /{}/; the same text is refused there for \
                 {window} seconds. Write something of your own.",
                board.slug
            );
            return Err(ApiError::new(ErrorKind::DuplicateText, message)
                .with_field("body")
                .with_retry_after(wait));
        }
        self.bodies.insert(key.clone(), now);
        Ok(Some(Undo::Body {
            key,
            before,
            set: now,
        }))
    }

    /// Claims one of the board's new threads for this minute, or refuses with 429
    /// `too_many_threads` and the seconds until the oldest one leaves the window.
    pub fn thread_slot(&mut self, board: &Board, now: Instant) -> ApiResult<Option<Undo>> {
        let cap = board.max_threads_per_minute as usize;
        if cap == 0 {
            return Ok(None);
        }
        if self.threads.get(&board.slug).is_none() {
            self.threads.insert(board.slug.clone(), VecDeque::new());
        }
        let window = self
            .threads
            .get_mut(&board.slug)
            .expect("inserted just above");
        while window
            .front()
            .is_some_and(|at| remaining(*at, MINUTE, now).is_none())
        {
            window.pop_front();
        }
        // A cap lowered since: the extra instants go too, so the window stays within the cap.
        while window.len() > cap {
            window.pop_front();
        }
        if window.len() == cap {
            let wait = remaining(window[0], MINUTE, now).unwrap_or(1);
            let message = format!(
                "/{}/ takes {cap} new threads a minute and has had them; try again in {wait} \
                 seconds, or reply to a thread.",
                board.slug
            );
            return Err(ApiError::new(ErrorKind::TooManyThreads, message).with_retry_after(wait));
        }
        window.push_back(now);
        Ok(Some(Undo::Thread {
            board: board.slug.clone(),
            at: now,
        }))
    }

    /// Hands a claim back, unless a later post has claimed the same thing since.
    pub fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Last { key, before, set } => {
                if self.last.get(&key) == Some(&set) {
                    match before {
                        Some(at) => self.last.insert(key, at),
                        None => drop(self.last.remove(&key)),
                    }
                }
            }
            Undo::Body { key, before, set } => {
                if self.bodies.get(&key) == Some(&set) {
                    match before {
                        Some(at) => self.bodies.insert(key, at),
                        None => drop(self.bodies.remove(&key)),
                    }
                }
            }
            Undo::Thread { board, at } => {
                if let Some(window) = self.threads.get_mut(&board) {
                    if let Some(i) = window.iter().rposition(|t| *t == at) {
                        window.remove(i);
                    }
                }
            }
        }
    }
}

fn secs_of(secs: u32) -> Duration {
    Duration::from_secs(u64::from(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board() -> Board {
        Board {
            slug: "t".into(),
            cooldown_threads_secs: 600,
            cooldown_replies_secs: 30,
            cooldown_images_secs: 0,
            duplicate_window_secs: 100,
            max_threads_per_minute: 2,
            ..Board::default()
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn cooldowns_refuse_within_and_allow_after() {
        let b = board();
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        let a = ip("198.51.100.1");
        let mut f = Flood::new();
        // (seconds after t0, network, lane, expected: Ok or Retry-After)
        let steps: [(u64, IpAddr, Lane, Result<(), u64>); 8] = [
            (0, a, Lane::Replies, Ok(())),
            (10, a, Lane::Replies, Err(20)),
            (10, ip("198.51.100.2"), Lane::Replies, Ok(())),
            (10, a, Lane::Threads, Ok(())),
            (29, a, Lane::Replies, Err(1)),
            (30, a, Lane::Replies, Ok(())),
            (30, a, Lane::Images, Ok(())), // a cooldown of 0 is none
            (30, a, Lane::Images, Ok(())),
        ];
        for (secs, network, lane, expected) in steps {
            let got = f.cooldown(&b, network, lane, at(secs));
            match (got, expected) {
                (Ok(_), Ok(())) => {}
                (Err(e), Err(wait)) => {
                    assert_eq!(e.kind, ErrorKind::Cooldown);
                    assert_eq!(e.retry_after, Some(wait), "{secs} s {lane:?}");
                }
                (got, expected) => panic!("{secs} s {lane:?}: {got:?}, wanted {expected:?}"),
            }
        }
        let other = Board {
            slug: "u".into(),
            ..board()
        };
        assert!(
            f.cooldown(&other, a, Lane::Threads, at(11)).is_ok(),
            "per board"
        );
    }

    #[test]
    fn an_undone_claim_is_as_if_never_made() {
        let b = board();
        let t0 = Instant::now();
        let a = ip("198.51.100.1");
        let mut f = Flood::new();
        f.cooldown(&b, a, Lane::Replies, t0).unwrap();
        let later = t0 + Duration::from_secs(40);
        let undo = f.cooldown(&b, a, Lane::Replies, later).unwrap().unwrap();
        f.undo(undo);
        let err = f
            .cooldown(&b, a, Lane::Replies, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(err.retry_after, Some(20), "the earlier post still counts");
        let undo = f.body(&b, "hello", t0).unwrap().unwrap();
        f.undo(undo);
        assert!(f.body(&b, "hello", t0).is_ok());
        let undo = f.thread_slot(&b, t0).unwrap().unwrap();
        f.undo(undo);
        assert!(f.thread_slot(&b, t0).is_ok());
        assert!(f.thread_slot(&b, t0).is_ok());
        assert!(f.thread_slot(&b, t0).is_err(), "two a minute");
    }

    #[test]
    fn the_same_text_is_refused_board_wide_within_the_window() {
        let b = board();
        let t0 = Instant::now();
        let mut f = Flood::new();
        assert!(f.body(&b, "Buy  cheap\nPILLS ", t0).unwrap().is_some());
        let err = f
            .body(&b, "buy cheap pills", t0 + Duration::from_secs(40))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::DuplicateText);
        assert_eq!(err.retry_after, Some(60));
        assert!(f.body(&b, "buy cheaper pills", t0).is_ok());
        assert!(f.body(&b, " \n ", t0).unwrap().is_none(), "no text");
        assert!(f.body(&b, " \n ", t0).unwrap().is_none());
        let other = Board {
            slug: "u".into(),
            ..board()
        };
        assert!(f.body(&other, "buy cheap pills", t0).is_ok());
        assert!(f
            .body(&b, "buy cheap pills", t0 + Duration::from_secs(100))
            .is_ok());
        let off = Board {
            duplicate_window_secs: 0,
            ..board()
        };
        assert!(f.body(&off, "x", t0).unwrap().is_none());
        assert!(f.body(&off, "x", t0).unwrap().is_none());
    }

    #[test]
    fn threads_per_minute_per_board() {
        let b = board();
        let t0 = Instant::now();
        let mut f = Flood::new();
        f.thread_slot(&b, t0).unwrap();
        f.thread_slot(&b, t0 + Duration::from_secs(15)).unwrap();
        let err = f.thread_slot(&b, t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooManyThreads);
        assert_eq!(err.retry_after, Some(40));
        assert!(f.thread_slot(&b, t0 + Duration::from_secs(60)).is_ok());
        let uncapped = Board {
            max_threads_per_minute: 0,
            ..board()
        };
        for _ in 0..10 {
            assert!(f.thread_slot(&uncapped, t0).unwrap().is_none());
        }
    }

    #[test]
    fn memory_stays_bounded_under_sprayed_addresses_and_bodies() {
        let b = board();
        let t0 = Instant::now();
        let mut f = Flood::with_cap(1000);
        for i in 0..20_000u32 {
            let network = IpAddr::from(i.to_be_bytes());
            f.cooldown(&b, network, Lane::Replies, t0).unwrap();
            f.body(&b, &format!("spam {i}"), t0).unwrap();
        }
        assert_eq!(f.last.len(), 1000);
        assert_eq!(f.bodies.len(), 1000);
        // The newest entries are the ones kept.
        let newest = IpAddr::from(19_999u32.to_be_bytes());
        assert!(f.cooldown(&b, newest, Lane::Replies, t0).is_err());
        let high = Board {
            max_threads_per_minute: 10_000,
            ..board()
        };
        for i in 0..20_000u32 {
            let slug = format!("b{}", i % 5000);
            let _ = f.thread_slot(
                &Board {
                    slug,
                    ..high.clone()
                },
                t0,
            );
        }
        assert_eq!(f.threads.len(), MAX_BOARDS);
    }
}
