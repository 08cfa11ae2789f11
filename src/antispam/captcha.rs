//! Captcha challenges: the `[captcha]` config, issuing a proof of work or a text picture, and
//! spending an answer. Challenges live in bounded memory, each bound to a board and a client
//! network, and leave it at their first use, right or wrong, so none is answered twice.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::text;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The `[captcha]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptchaConfig {
    /// Leading zero bits the proof of work's SHA-256 needs: about 2^bits hashes to find.
    pub pow_bits: u32,
    /// Seconds a challenge can be answered.
    pub challenge_secs: u64,
    /// Characters of a text captcha.
    pub text_chars: u32,
    /// The text captcha's picture, in pixels.
    pub text_width: u32,
    pub text_height: u32,
    /// Challenges held at once, all clients together; past it the oldest are dropped.
    pub max_challenges: usize,
    /// Unanswered challenges one client network holds; past it its oldest is dropped.
    pub max_challenges_per_address: usize,
    /// Challenges one client network may fetch per minute; more get 429.
    pub challenges_per_address_per_minute: u32,
    /// What a board in `auto` mode asks for while busy: `pow` or `text`.
    pub auto_mode: AutoMode,
    /// Posts a minute on one board above which `auto` turns the captcha on; it turns off again
    /// once the last minute holds fewer.
    pub auto_posts_per_minute: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoMode {
    Pow,
    Text,
}

impl Default for CaptchaConfig {
    fn default() -> Self {
        CaptchaConfig {
            // About 33,000 hashes: a second at the ~30,000 WebCrypto digests a second measured
            // with test/bench/captcha_pow.mjs (readme.md, Performance); one hash to check.
            pow_bits: 15,
            challenge_secs: 600,
            text_chars: 6,
            text_width: 240,
            text_height: 80,
            max_challenges: 100_000,
            max_challenges_per_address: 16,
            challenges_per_address_per_minute: 30,
            auto_mode: AutoMode::Pow,
            auto_posts_per_minute: 60,
        }
    }
}

impl CaptchaConfig {
    pub fn validate(&self) -> Result<(), String> {
        let checks: [(&str, u64, u64, u64); 9] = [
            ("pow_bits", self.pow_bits.into(), 1, 32),
            ("challenge_secs", self.challenge_secs, 1, 86_400),
            ("text_chars", self.text_chars.into(), 4, 10),
            ("text_width", self.text_width.into(), 100, 800),
            ("text_height", self.text_height.into(), 40, 300),
            ("max_challenges", self.max_challenges as u64, 1, 10_000_000),
            (
                "max_challenges_per_address",
                self.max_challenges_per_address as u64,
                1,
                1000,
            ),
            (
                "challenges_per_address_per_minute",
                self.challenges_per_address_per_minute.into(),
                1,
                10_000,
            ),
            (
                "auto_posts_per_minute",
                self.auto_posts_per_minute.into(),
                1,
                1_000_000,
            ),
        ];
        for (key, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(format!("[captcha] {key} must be from {min} to {max}"));
            }
        }
        Ok(())
    }
}

/// What a challenge asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Puzzle {
    /// A nonce whose `SHA-256(id ":" nonce)` starts with this many zero bits.
    Pow { bits: u32 },
    /// The characters drawn, upper case.
    Text { answer: String },
}

struct Challenge {
    board: String,
    network: IpAddr,
    expires: Instant,
    puzzle: Puzzle,
}

/// Longest answer looked at, in bytes: a nonce or a few characters.
pub const MAX_ANSWER_BYTES: usize = 64;
/// A challenge id: 128 random bits in hex.
const ID_HEX: usize = 32;

/// The challenges waiting for an answer.
pub struct Challenges {
    by_id: HashMap<String, Challenge>,
    /// `(expires, id)`: the oldest first, to drop when full.
    by_age: BTreeMap<(Instant, String), ()>,
    /// Each network's challenges, oldest first.
    by_network: HashMap<IpAddr, VecDeque<String>>,
    max: usize,
    per_network: usize,
    ttl: Duration,
}

impl Challenges {
    pub fn new(config: &CaptchaConfig) -> Challenges {
        Challenges {
            by_id: HashMap::new(),
            by_age: BTreeMap::new(),
            by_network: HashMap::new(),
            max: config.max_challenges,
            per_network: config.max_challenges_per_address,
            ttl: Duration::from_secs(config.challenge_secs),
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Stores a challenge for `board` and `network`; returns its id.
    pub fn add(&mut self, board: &str, network: IpAddr, puzzle: Puzzle, now: Instant) -> String {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the OS random source works");
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        // Expired ones first, then, if still full, the oldest of all.
        while let Some(((expires, oldest), ())) = self.by_age.first_key_value() {
            if *expires > now && self.by_id.len() < self.max {
                break;
            }
            let oldest = oldest.clone();
            self.remove(&oldest);
        }
        let mine = self.by_network.get(&network).map_or(0, VecDeque::len);
        if mine >= self.per_network {
            if let Some(oldest) = self.by_network.get(&network).and_then(|q| q.front()) {
                let oldest = oldest.clone();
                self.remove(&oldest);
            }
        }
        let expires = now + self.ttl;
        self.by_age.insert((expires, id.clone()), ());
        self.by_network
            .entry(network)
            .or_default()
            .push_back(id.clone());
        self.by_id.insert(
            id.clone(),
            Challenge {
                board: board.to_owned(),
                network,
                expires,
                puzzle,
            },
        );
        id
    }

    fn remove(&mut self, id: &str) -> Option<Challenge> {
        let challenge = self.by_id.remove(id)?;
        self.by_age.remove(&(challenge.expires, id.to_owned()));
        if let Some(queue) = self.by_network.get_mut(&challenge.network) {
            queue.retain(|i| i != id);
            if queue.is_empty() {
                self.by_network.remove(&challenge.network);
            }
        }
        Some(challenge)
    }

    /// Spends challenge `id` with `answer`, from `network` posting on `board`. The challenge is
    /// gone afterwards whatever the outcome, so a wrong guess costs a new challenge.
    pub fn spend(
        &mut self,
        id: &str,
        answer: &str,
        board: &str,
        network: IpAddr,
        now: Instant,
    ) -> ApiResult<()> {
        let failed = |why: &str| {
            ApiError::new(
                ErrorKind::CaptchaFailed,
                format!("{why} Get a new one from GET /api/boards/{board}/captcha."),
            )
            .with_field("captcha_answer")
        };
        if id.len() != ID_HEX {
            return Err(failed("This captcha is unknown, already used or dropped."));
        }
        let Some(challenge) = self.remove(id) else {
            return Err(failed("This captcha is unknown, already used or dropped."));
        };
        if challenge.board != board {
            return Err(failed("This captcha was issued for another board."));
        }
        if challenge.network != network {
            return Err(failed("This captcha was issued to another address."));
        }
        if challenge.expires <= now {
            return Err(failed("This captcha has expired."));
        }
        let right = match &challenge.puzzle {
            Puzzle::Pow { bits } => pow_holds(id, answer, *bits),
            Puzzle::Text { answer: want } => answer.trim().eq_ignore_ascii_case(want),
        };
        match right {
            true => Ok(()),
            false => Err(failed("The captcha's answer is wrong.")),
        }
    }

    /// The puzzle of a waiting challenge, for tests that must answer a text captcha.
    #[cfg(test)]
    pub fn puzzle(&self, id: &str) -> Option<&Puzzle> {
        self.by_id.get(id).map(|c| &c.puzzle)
    }
}

/// Leading zero bits of a digest.
pub fn zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in digest {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Whether `nonce` (decimal digits) solves the proof of work of challenge `id`.
pub fn pow_holds(id: &str, nonce: &str, bits: u32) -> bool {
    let digits =
        !nonce.is_empty() && nonce.len() <= 20 && nonce.bytes().all(|b| b.is_ascii_digit());
    if !digits {
        return false;
    }
    let mut hasher = Sha256::new();
    hasher.update(id.as_bytes());
    hasher.update(b":");
    hasher.update(nonce.as_bytes());
    zero_bits(&hasher.finalize()) >= bits
}

/// Finds a nonce for `id` the way a client does: counting from 0. For tests and the benchmark.
pub fn solve(id: &str, bits: u32) -> u64 {
    (0u64..)
        .find(|n| pow_holds(id, &n.to_string(), bits))
        .expect("some nonce works")
}

/// A new text challenge's answer and picture.
pub fn text_puzzle(config: &CaptchaConfig) -> (Puzzle, Vec<u8>) {
    let answer = text::answer(config.text_chars as usize);
    let png = text::draw(
        &answer,
        config.text_width,
        config.text_height,
        &mut text::Rng::from_os(),
    );
    (Puzzle::Text { answer }, png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CaptchaConfig {
        CaptchaConfig {
            pow_bits: 8,
            max_challenges: 4,
            max_challenges_per_address: 2,
            ..CaptchaConfig::default()
        }
    }

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const AWAY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn zero_bits_count_from_the_first_byte() {
        let cases: [(&[u8], u32); 5] = [
            (&[0x80], 0),
            (&[0x01], 7),
            (&[0x00, 0x40], 9),
            (&[0x00, 0x00, 0xff], 16),
            (&[0x00, 0x00], 16),
        ];
        for (digest, bits) in cases {
            assert_eq!(zero_bits(digest), bits, "{digest:?}");
        }
    }

    #[test]
    fn a_proof_of_work_verifies_once_where_it_was_issued() {
        let now = Instant::now();
        let mut c = Challenges::new(&config());
        let bits = 8;
        let id = c.add("b", HOME, Puzzle::Pow { bits }, now);
        let nonce = solve(&id, bits).to_string();
        assert!(pow_holds(&id, &nonce, bits));
        assert!(!pow_holds(&id, &format!("{nonce} "), bits));
        assert!(!pow_holds(&id, "", bits));
        c.spend(&id, &nonce, "b", HOME, now).unwrap();
        let again = c.spend(&id, &nonce, "b", HOME, now).unwrap_err();
        assert_eq!(again.kind, ErrorKind::CaptchaFailed);
        // Every wrong circumstance fails, and spends the challenge.
        let cases = [
            ("c", HOME, now, "another board"),
            ("b", AWAY, now, "another address"),
            ("b", HOME, now + Duration::from_secs(601), "expired"),
        ];
        for (board, network, at, why) in cases {
            let id = c.add("b", HOME, Puzzle::Pow { bits }, now);
            let nonce = solve(&id, bits).to_string();
            let err = c.spend(&id, &nonce, board, network, at).unwrap_err();
            assert!(err.message.contains(why), "{}", err.message);
            assert!(
                c.spend(&id, &nonce, "b", HOME, now).is_err(),
                "{why}: spent"
            );
        }
        assert!(c.is_empty());
    }

    #[test]
    fn a_drawn_text_answer_verifies_in_any_case_and_only_once() {
        let now = Instant::now();
        let mut c = Challenges::new(&config());
        let (puzzle, png) = text_puzzle(&CaptchaConfig::default());
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let id = c.add("b", HOME, puzzle, now);
        let Some(Puzzle::Text { answer }) = c.puzzle(&id).cloned() else {
            panic!("a text puzzle");
        };
        assert_eq!(answer.len(), 6);
        let same = Puzzle::Text {
            answer: answer.clone(),
        };
        let wrong = c.add("b", HOME, same, now);
        let err = c.spend(&wrong, "nope", "b", HOME, now).unwrap_err();
        assert!(err.message.contains("wrong"), "{}", err.message);
        assert!(c.spend(&wrong, &answer, "b", HOME, now).is_err());
        c.spend(&id, &format!(" {} ", answer.to_lowercase()), "b", HOME, now)
            .unwrap();
        assert!(c.spend(&id, &answer, "b", HOME, now).is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let now = Instant::now();
        let mut c = Challenges::new(&config());
        let pow = Puzzle::Pow { bits: 1 };
        // Two per network: a third drops that network's oldest.
        let first = c.add("b", HOME, pow.clone(), now);
        c.add("b", HOME, pow.clone(), now);
        c.add("b", HOME, pow.clone(), now);
        assert_eq!(c.len(), 2);
        assert!(c
            .spend(&first, "0", "b", HOME, now)
            .unwrap_err()
            .message
            .contains("unknown"));
        // Four in all: more from other networks drop the oldest.
        for i in 0..10u8 {
            let network = IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 0, i));
            c.add(
                "b",
                network,
                pow.clone(),
                now + Duration::from_millis(i.into()),
            );
        }
        assert_eq!(c.len(), 4);
        assert_eq!(c.by_age.len(), 4);
        assert_eq!(c.by_network.values().map(VecDeque::len).sum::<usize>(), 4);
        // Expired ones leave first.
        let later = now + Duration::from_secs(3600);
        c.add("b", HOME, pow, later);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn config_bounds() {
        CaptchaConfig::default().validate().unwrap();
        let bad = [
            CaptchaConfig {
                pow_bits: 0,
                ..CaptchaConfig::default()
            },
            CaptchaConfig {
                pow_bits: 33,
                ..CaptchaConfig::default()
            },
            CaptchaConfig {
                text_chars: 3,
                ..CaptchaConfig::default()
            },
            CaptchaConfig {
                max_challenges: 0,
                ..CaptchaConfig::default()
            },
            CaptchaConfig {
                auto_posts_per_minute: 0,
                ..CaptchaConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}

/// The benchmark behind `test/bench/captcha.sh`: what the server pays per captcha.
#[cfg(test)]
mod bench {
    use std::time::Instant;

    use super::*;

    #[test]
    #[ignore = "a benchmark: test/bench/captcha.sh"]
    fn captcha_costs() {
        let config = CaptchaConfig::default();
        let id = "0123456789abcdef0123456789abcdef";
        let nonce = solve(id, 12).to_string();
        let rounds = 200_000;
        let start = Instant::now();
        let mut held = 0;
        for _ in 0..rounds {
            held += usize::from(pow_holds(std::hint::black_box(id), &nonce, 12));
        }
        let per = start.elapsed().as_secs_f64() / rounds as f64;
        assert_eq!(held, rounds);
        println!("pow verification: {:.2} µs", per * 1e6);

        let rounds = 200;
        let start = Instant::now();
        let mut bytes = 0;
        for _ in 0..rounds {
            bytes += text_puzzle(&config).1.len();
        }
        let per = start.elapsed().as_secs_f64() / rounds as f64;
        println!(
            "text captcha ({}x{}, {} chars): {:.2} ms to draw and encode, {} bytes of PNG",
            config.text_width,
            config.text_height,
            config.text_chars,
            per * 1e3,
            bytes / rounds
        );

        let now = std::time::Instant::now();
        let mut challenges = Challenges::new(&config);
        let base = u32::from(std::net::Ipv4Addr::new(10, 0, 0, 1));
        // Twice the store's size: the second half drops the oldest at each issue.
        let rounds = 2 * config.max_challenges as u32;
        let start = Instant::now();
        for i in 0..rounds {
            let network = IpAddr::V4(std::net::Ipv4Addr::from(base + i));
            challenges.add("b", network, Puzzle::Pow { bits: 15 }, now);
        }
        let per = start.elapsed().as_secs_f64() / f64::from(rounds);
        println!(
            "issuing a challenge ({} held at the end, the oldest dropped past it): {:.2} µs each",
            challenges.len(),
            per * 1e6
        );
    }
}
