//! Anti-spam checks before a post is read: the request budget, the DNSBL lookup, flood
//! control (cooldowns, duplicate text, threads per minute), and the captcha ([`captchas`]).
//!
//! The state lives in memory: every window here is minutes long, so a restart forgets little
//! that matters, and every map is bounded ([`bounded::MAX_KEYS`]).

mod bounded;
pub mod captcha;
mod captchas;
pub mod dnsbl;
mod flood;
pub mod text;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::api::posts::Kind;
use crate::auth::{Caller, Role};
use crate::config::Config;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::limit::{Buckets, MAX_TRACKED_KEYS};
use crate::model::Board;
use crate::poster::network;
use dnsbl::Dnsbl;
use flood::{Flood, Lane, Undo};

pub use captcha::{AutoMode, CaptchaConfig, MAX_ANSWER_BYTES};
pub use captchas::{Captchas, Need, CAPTCHA_FIELDS, CAPTCHA_MODES};

pub struct Antispam {
    /// None when `flood_control` is off.
    flood: Option<Arc<Mutex<Flood>>>,
    /// The request budget per client network; None when it is off.
    budget: Option<Mutex<Buckets<IpAddr>>>,
    dnsbl: Option<Dnsbl>,
}

impl Antispam {
    pub fn new(config: &Config) -> Result<Antispam, String> {
        let budget = (config.request_budget_burst > 0).then(|| {
            let burst = config.request_budget_burst;
            // The bucket refills `burst` tokens per window: `per_minute` a minute.
            let window = 60.0 * f64::from(burst) / f64::from(config.request_budget_per_minute);
            Mutex::new(Buckets::new(
                burst,
                Duration::from_secs_f64(window),
                MAX_TRACKED_KEYS,
            ))
        });
        Ok(Antispam {
            flood: config
                .flood_control
                .then(|| Arc::new(Mutex::new(Flood::new()))),
            budget,
            dnsbl: Dnsbl::new(config)?,
        })
    }

    /// Spends one of the client network's expensive requests, or refuses with 429
    /// `rate_limited` and the seconds until it has one again.
    pub fn spend(&self, client: IpAddr) -> ApiResult<()> {
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        let client = network(client);
        let now = Instant::now();
        let mut budget = budget.lock().unwrap_or_else(|e| e.into_inner());
        let wait = budget.wait_secs(&client, now);
        if wait > 0 {
            let message = format!(
                "Too many posts, uploads or logins from this address; try again in {wait} \
                 seconds."
            );
            return Err(ApiError::new(ErrorKind::RateLimited, message).with_retry_after(wait));
        }
        budget.take(&client, now);
        Ok(())
    }
}

/// Whether the caller is staff, who skip flood control and the DNSBL: their posts are
/// accountable to their account, and they may have to post quickly during a raid.
fn is_staff(caller: Option<&Caller>) -> bool {
    caller.is_some_and(|c| c.role != Role::User)
}

/// The one check before a post's body is read: the DNSBL, then the cooldown of its kind and,
/// for a thread, the board's threads per minute. The ticket carries the claims made, handed
/// back when it is dropped without [`Ticket::keep`], and checks the text once it is read.
pub async fn admit(
    app: &crate::app::App,
    client: IpAddr,
    board: &Board,
    kind: Kind,
    caller: Option<&Caller>,
) -> ApiResult<Ticket> {
    let antispam = &app.antispam;
    let mut ticket = Ticket {
        flood: None,
        board: board.clone(),
        network: network(client),
        claims: Vec::new(),
    };
    if is_staff(caller) {
        return Ok(ticket);
    }
    if let Some(dnsbl) = &antispam.dnsbl {
        dnsbl.check(client).await?;
    }
    let Some(flood) = &antispam.flood else {
        return Ok(ticket);
    };
    ticket.flood = Some(flood.clone());
    let now = Instant::now();
    // Declared after the ticket, so an early return releases the lock before the ticket's
    // drop takes it to hand the claims back.
    let mut state = flood.lock().unwrap_or_else(|e| e.into_inner());
    match kind {
        Kind::Thread => {
            let claim = state.cooldown(board, ticket.network, Lane::Threads, now)?;
            ticket.claims.extend(claim);
            let claim = state.thread_slot(board, now)?;
            ticket.claims.extend(claim);
        }
        Kind::Reply => {
            let claim = state.cooldown(board, ticket.network, Lane::Replies, now)?;
            ticket.claims.extend(claim);
        }
    }
    drop(state);
    Ok(ticket)
}

/// What one post claimed of flood control; dropped without [`Ticket::keep`] (the post failed),
/// it hands every claim back.
pub struct Ticket {
    flood: Option<Arc<Mutex<Flood>>>,
    board: Board,
    network: IpAddr,
    claims: Vec<Undo>,
}

impl Ticket {
    /// The checks that need the post's text, before any file is decoded: the duplicate body,
    /// and for a reply with files the image cooldown.
    pub fn check_text(&mut self, kind: Kind, body: &str, files: usize) -> ApiResult<()> {
        let Some(flood) = &self.flood else {
            return Ok(());
        };
        let now = Instant::now();
        let mut state = flood.lock().unwrap_or_else(|e| e.into_inner());
        if kind == Kind::Reply && files > 0 {
            let claim = state.cooldown(&self.board, self.network, Lane::Images, now)?;
            self.claims.extend(claim);
        }
        let claim = state.body(&self.board, body, now)?;
        self.claims.extend(claim);
        Ok(())
    }

    /// The post is written: its claims stand.
    pub fn keep(mut self) {
        self.claims.clear();
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.claims.is_empty() {
            return;
        }
        if let Some(flood) = &self.flood {
            let mut state = flood.lock().unwrap_or_else(|e| e.into_inner());
            for claim in self.claims.drain(..).rev() {
                state.undo(claim);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_per_client_network_and_off_at_zero() {
        let config = Config {
            request_budget_per_minute: 60,
            request_budget_burst: 2,
            ..Config::default()
        };
        let antispam = Antispam::new(&config).unwrap();
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        // (client, expected Retry-After: 0 for taken)
        let steps = [
            ("2001:db8:1:2::1", 0),
            ("2001:db8:1:2::2", 0),
            ("2001:db8:1:2:ffff::3", 1), // the same /64 has spent its two
            ("2001:db8:1:3::1", 0),
            ("198.51.100.1", 0),
        ];
        for (client, wait) in steps {
            let got = antispam.spend(ip(client));
            match got {
                Ok(()) => assert_eq!(wait, 0, "{client} was taken"),
                Err(e) => {
                    assert_eq!(e.kind, ErrorKind::RateLimited);
                    assert_eq!(e.retry_after, Some(wait), "{client}");
                }
            }
        }
        let off = Config {
            request_budget_per_minute: 0,
            request_budget_burst: 0,
            ..Config::default()
        };
        let antispam = Antispam::new(&off).unwrap();
        for _ in 0..1000 {
            antispam.spend(ip("198.51.100.1")).unwrap();
        }
    }
}
