//! The captcha a board asks for (`captcha` setting: `off`, `pow`, `text`, `auto`), checked by
//! the post handlers before a post's files are read: its challenges, and the posting rate that
//! switches `auto` on and off.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Map, Value};

use super::captcha::{self, AutoMode, CaptchaConfig, Challenges, Puzzle, MAX_ANSWER_BYTES};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::limit::{Buckets, MAX_TRACKED_KEYS};
use crate::model::Board;
use crate::poster::network;

/// The board settings' values of `captcha`.
pub const CAPTCHA_MODES: &[&str] = &["off", "pow", "text", "auto"];

/// The post fields that carry a captcha's answer.
pub const CAPTCHA_FIELDS: &[&str] = &["captcha_id", "captcha_answer"];

/// The window of the posting rate that `auto` watches.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// What a post must solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Pow,
    Text,
}

/// The captcha state: challenges waiting, per-network budgets, recent posts per board.
pub struct Captchas {
    config: CaptchaConfig,
    challenges: Mutex<Challenges>,
    issued: Mutex<Buckets<IpAddr>>,
    /// The times of each board's latest posts, at most `auto_posts_per_minute` of them.
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Captchas {
    pub fn new(config: &CaptchaConfig) -> Captchas {
        Captchas {
            config: config.clone(),
            challenges: Mutex::new(Challenges::new(config)),
            issued: Mutex::new(Buckets::new(
                config.challenges_per_address_per_minute,
                Duration::from_secs(60),
                MAX_TRACKED_KEYS,
            )),
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// What a post on `board` must solve now, if anything.
    pub fn need(&self, board: &Board, now: Instant) -> Option<Need> {
        match board.captcha.as_str() {
            "pow" => Some(Need::Pow),
            "text" => Some(Need::Text),
            "auto" if self.busy(&board.slug, now) => Some(match self.config.auto_mode {
                AutoMode::Pow => Need::Pow,
                AutoMode::Text => Need::Text,
            }),
            _ => None,
        }
    }

    /// Whether the board had at least `auto_posts_per_minute` posts in the last minute.
    fn busy(&self, board: &str, now: Instant) -> bool {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let threshold = self.config.auto_posts_per_minute as usize;
        recent.get(board).is_some_and(|times| {
            times.len() >= threshold
                && times
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) < RATE_WINDOW)
        })
    }

    /// Counts a post on `board`, for `auto`. Only the newest `auto_posts_per_minute` times are
    /// kept: the oldest of them tells whether they all fell within the last minute.
    pub fn record_post(&self, board: &str, now: Instant) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let threshold = self.config.auto_posts_per_minute as usize;
        let times = recent.entry(board.to_owned()).or_default();
        times.push_back(now);
        while times.len() > threshold {
            times.pop_front();
        }
    }

    /// `GET /api/boards/{board}/captcha`'s answer: a new challenge when the board asks for
    /// one now, else `{"mode":"off"}`. 429 `rate_limited` past the network's budget.
    pub fn issue(&self, board: &Board, client: IpAddr, now: Instant) -> ApiResult<Value> {
        let Some(need) = self.need(board, now) else {
            return Ok(json!({ "mode": "off" }));
        };
        let net = network(client);
        {
            let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
            match issued.wait_secs(&net, now) {
                0 => issued.take(&net, now),
                wait => {
                    return Err(ApiError::new(
                        ErrorKind::RateLimited,
                        "Too many captchas fetched from this network; try again shortly.",
                    )
                    .with_retry_after(wait))
                }
            }
        }
        let expires_at = crate::storage::writer::unix_now() + self.config.challenge_secs;
        let (puzzle, png) = match need {
            Need::Pow => (
                Puzzle::Pow {
                    bits: self.config.pow_bits,
                },
                None,
            ),
            Need::Text => {
                let (puzzle, png) = captcha::text_puzzle(&self.config);
                (puzzle, Some(png))
            }
        };
        let id = self
            .challenges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(&board.slug, net, puzzle, now);
        Ok(match png {
            None => json!({
                "mode": "pow",
                "id": id,
                "bits": self.config.pow_bits,
                "expires_at": expires_at,
            }),
            Some(png) => json!({
                "mode": "text",
                "id": id,
                "image": format!(
                    "data:image/png;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(png)
                ),
                "width": self.config.text_width,
                "height": self.config.text_height,
                "expires_at": expires_at,
            }),
        })
    }

    /// The posting path's check: takes the captcha fields out of a post's text fields and, when
    /// the board asks for a captcha now and the caller is not staff, spends the challenge they
    /// name. 403 `captcha_required` without them, 403 `captcha_failed` for a wrong, used,
    /// expired or misplaced one.
    pub fn check_post(
        &self,
        board: &Board,
        client: IpAddr,
        caller: Option<&Caller>,
        fields: &mut Map<String, Value>,
    ) -> ApiResult<()> {
        let mut given = [None, None];
        for (slot, &name) in given.iter_mut().zip(CAPTCHA_FIELDS) {
            *slot = match fields.remove(name) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.len() <= MAX_ANSWER_BYTES => Some(s),
                Some(Value::String(_)) => {
                    let message = format!("`{name}` is over {MAX_ANSWER_BYTES} bytes.");
                    return Err(ApiError::new(ErrorKind::TooLong, message).with_field(name));
                }
                Some(_) => {
                    let message = format!("`{name}` must be a string.");
                    return Err(ApiError::new(ErrorKind::InvalidType, message).with_field(name));
                }
            };
        }
        let staff = caller.is_some_and(|c| c.role != Role::User);
        let now = Instant::now();
        if staff || self.need(board, now).is_none() {
            return Ok(());
        }
        let [Some(id), Some(answer)] = given else {
            let message = format!(
                "/{}/ asks for a captcha: get one from GET /api/boards/{}/captcha and send \
                 `captcha_id` and `captcha_answer` with the post (before any file).",
                board.slug, board.slug
            );
            return Err(ApiError::new(ErrorKind::CaptchaRequired, message).with_field("captcha_id"));
        };
        self.challenges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .spend(&id, &answer, &board.slug, network(client), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn board(captcha: &str) -> Board {
        Board {
            slug: "b".into(),
            captcha: captcha.into(),
            ..Board::default()
        }
    }

    fn antispam() -> Captchas {
        Captchas::new(&CaptchaConfig {
            pow_bits: 4,
            auto_posts_per_minute: 3,
            challenges_per_address_per_minute: 2,
            ..CaptchaConfig::default()
        })
    }

    const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    #[test]
    fn each_mode_asks_for_what_it_says() {
        let a = antispam();
        let now = Instant::now();
        let cases = [
            ("off", None),
            ("pow", Some(Need::Pow)),
            ("text", Some(Need::Text)),
            ("auto", None),
        ];
        for (mode, need) in cases {
            assert_eq!(a.need(&board(mode), now), need, "{mode}");
        }
    }

    #[test]
    fn auto_turns_on_with_the_rate_and_off_again() {
        let a = antispam();
        let t0 = Instant::now();
        let auto = board("auto");
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        a.record_post("b", at(0));
        a.record_post("b", at(10));
        a.record_post("other", at(10));
        assert_eq!(a.need(&auto, at(11)), None, "two posts are under three");
        a.record_post("b", at(20));
        assert_eq!(a.need(&auto, at(21)), Some(Need::Pow));
        assert_eq!(a.need(&auto, at(59)), Some(Need::Pow));
        // A minute after the first of the three, the rate is under the threshold again.
        assert_eq!(a.need(&auto, at(60)), None);
        a.record_post("b", at(61));
        assert_eq!(a.need(&auto, at(62)), Some(Need::Pow), "10, 20 and 61");
        assert_eq!(a.need(&board("auto"), at(200)), None);
        assert!(
            a.recent.lock().unwrap()["b"].len() <= 3,
            "memory per board is bounded"
        );
    }

    #[test]
    fn posts_check_fields_and_staff_skip() {
        let a = antispam();
        let pow = board("pow");
        let staff = Caller {
            username: "root".into(),
            role: Role::Janitor,
            boards: vec!["b".into()],
            session: [0; 32],
            csrf: String::new(),
            needs_totp: false,
        };
        let user = Caller {
            role: Role::User,
            ..staff.clone()
        };
        let mut fields = Map::new();
        a.check_post(&pow, CLIENT, Some(&staff), &mut fields)
            .unwrap();
        let err = a
            .check_post(&pow, CLIENT, Some(&user), &mut fields)
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::CaptchaRequired);
        let challenge = a.issue(&pow, CLIENT, Instant::now()).unwrap();
        let id = challenge["id"].as_str().unwrap();
        let nonce = captcha::solve(id, 4).to_string();
        let mut fields = json!({ "body": "x", "captcha_id": id, "captcha_answer": nonce });
        let fields = fields.as_object_mut().unwrap();
        a.check_post(&pow, CLIENT, None, fields).unwrap();
        assert_eq!(fields.len(), 1, "the captcha fields are taken out");
        // Off: fields are taken out and not checked.
        let mut fields = json!({ "captcha_id": "x", "captcha_answer": "y" });
        let fields = fields.as_object_mut().unwrap();
        a.check_post(&board("off"), CLIENT, None, fields).unwrap();
        assert!(fields.is_empty());
        let mut bad = json!({ "captcha_id": 1 });
        let err = a
            .check_post(&board("off"), CLIENT, None, bad.as_object_mut().unwrap())
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidType);
        // Two challenges a minute per network here; `off` costs none.
        a.issue(&pow, CLIENT, Instant::now()).unwrap();
        let err = a.issue(&pow, CLIENT, Instant::now()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited);
        assert_eq!(
            a.issue(&board("off"), CLIENT, Instant::now()).unwrap()["mode"],
            "off"
        );
    }
}
