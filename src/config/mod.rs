//! The typed configuration: one TOML file, every key with a default, unknown keys refused.
//! Loading and the cross-key checks live here; each section's types sit in their own file.

mod board;
mod proxy;
mod s3;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

pub use board::{valid_slug, BoardConfig, FILE_TYPES, MAX_SLUG_LEN, RESERVED_SLUGS, VIDEO_TYPES};
pub use proxy::ProxySpec;
pub use s3::{parse_interval, S3Config};

use serde::Deserialize;

/// Everything an admin can set. `config.example.toml` documents each key with its default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port the HTTP server binds.
    pub listen: SocketAddr,
    /// Directory holding the database and (later) the files.
    pub data_dir: PathBuf,
    /// Peers whose `X-Forwarded-For` header is believed: single addresses or CIDR networks.
    pub trusted_proxies: Vec<ProxySpec>,
    /// Open connections beyond this wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Open connections one client address (an IPv6 /64) may hold; more get 429.
    pub max_connections_per_client: usize,
    /// Live event streams one client address (an IPv6 /64) may hold open; more get 429.
    pub max_streams_per_client: usize,
    /// Seconds a connection may take to send a complete request head, counted from when it
    /// opened or finished its previous response: idle keep-alive and slow headers both end here.
    pub header_timeout_secs: u64,
    /// Seconds a request body (JSON or multipart) has to arrive in full, from its headers.
    pub body_timeout_secs: u64,
    /// Seconds a response may wait for the client to read it before the connection is dropped.
    pub write_timeout_secs: u64,
    /// Seconds a live event stream stays open; then it ends and the client resumes with
    /// `Last-Event-ID`.
    pub stream_max_secs: u64,
    /// Seconds in-flight requests get to finish after SIGTERM before the server stops anyway.
    pub shutdown_grace_secs: u64,
    /// Upper bound, in bytes, of the in-memory cache of serialized responses and their
    /// compressed copies.
    pub cache_bytes: usize,
    /// Wrong deletion passwords one client network (IPv4 address, IPv6 /64) may send per
    /// `delete_attempts_window_secs` before it gets 429.
    pub delete_attempts_per_address: u32,
    /// Wrong deletion passwords one post may receive, from all addresses together, per window.
    pub delete_attempts_per_post: u32,
    /// The window in which those attempts are counted; buckets refill evenly over it.
    pub delete_attempts_window_secs: u64,
    /// The boards' cooldowns, duplicate-text window and threads-per-minute cap; false turns
    /// them off on every board at once.
    pub flood_control: bool,
    /// Expensive requests (posting, uploads, deleting, login, signup, password reset) one
    /// client network may make per minute, on average; 0 turns the budget off.
    pub request_budget_per_minute: u32,
    /// Of those, how many it may make at once after being quiet.
    pub request_budget_burst: u32,
    /// DNS blocklist zones a poster's address is looked up in; empty: no lookup.
    pub dnsbl_zones: Vec<String>,
    /// The DNS server asked, as `address` or `address:port`; None: the first `nameserver` of
    /// /etc/resolv.conf.
    pub dnsbl_server: Option<String>,
    /// Milliseconds a lookup may take before the post goes ahead unchecked.
    pub dnsbl_timeout_ms: u64,
    /// Seconds an answer is remembered.
    pub dnsbl_cache_secs: u64,
    /// Longest side, in pixels, of the thumbnails made for uploaded images.
    pub thumbnail_size: u32,
    /// An `ffmpeg` binary for video uploads (WebM, MP4). None: video is refused.
    pub ffmpeg_path: Option<PathBuf>,
    /// Bytes that image decoding and ffmpeg may hold at once, all uploads together.
    pub media_memory_bytes: u64,
    /// Days a poster's (and a reporter's) client address is kept; then it is erased and only
    /// its cloak stays. Fractional days are taken (`0.5` is twelve hours).
    pub ip_retention_days: f64,
    /// The most bits in which an upload's perceptual hash may differ from a banned file's for
    /// the upload to be refused as that file; 0 bans by likeness only identical hashes.
    pub file_ban_distance: u32,
    /// The first boards: each is created at start unless the database has held it before.
    /// From then on the database holds its settings, which the admin API edits.
    pub boards: Vec<BoardConfig>,
    /// The S3 backup. None: everything lives on the local disk alone.
    pub s3: Option<S3Config>,
    /// Staff and user accounts: who may sign up, who is admin, sessions, password hashing.
    pub accounts: crate::auth::AccountsConfig,
    /// Captcha challenges and the posting rate of boards in `auto` mode.
    pub captcha: crate::antispam::CaptchaConfig,
    /// Outgoing mail for password recovery. None: reset links are only issued by admins.
    pub smtp: Option<crate::mail::SmtpConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            trusted_proxies: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            max_connections: 20_000,
            max_connections_per_client: 64,
            max_streams_per_client: 16,
            header_timeout_secs: 20,
            body_timeout_secs: 60,
            write_timeout_secs: 30,
            stream_max_secs: 3600,
            shutdown_grace_secs: 10,
            cache_bytes: 256 << 20,
            delete_attempts_per_address: 10,
            delete_attempts_per_post: 30,
            delete_attempts_window_secs: 600,
            flood_control: true,
            request_budget_per_minute: 30,
            request_budget_burst: 20,
            dnsbl_zones: Vec::new(),
            dnsbl_server: None,
            dnsbl_timeout_ms: 500,
            dnsbl_cache_secs: 600,
            thumbnail_size: 250,
            ffmpeg_path: None,
            media_memory_bytes: 256 << 20,
            ip_retention_days: 30.0,
            file_ban_distance: 10,
            s3: None,
            accounts: crate::auth::AccountsConfig::default(),
            smtp: None,
            captcha: crate::antispam::CaptchaConfig::default(),
            boards: vec![BoardConfig {
                slug: "b".into(),
                title: "Random".into(),
                ..BoardConfig::default()
            }],
        }
    }
}

impl Config {
    /// The boards to seed: a board's `allowed_types` lists video only when this server can
    /// take it.
    pub fn effective_boards(&self) -> Vec<crate::model::Board> {
        self.boards
            .iter()
            .map(|c| {
                let mut board = crate::model::Board::from(c);
                if self.ffmpeg_path.is_none() {
                    board
                        .allowed_types
                        .retain(|t| !VIDEO_TYPES.contains(&t.as_str()));
                }
                board
            })
            .collect()
    }

    /// The deletion-password limits as the guard takes them.
    pub fn delete_limits(&self) -> crate::limit::DeleteLimits {
        crate::limit::DeleteLimits {
            per_address: self.delete_attempts_per_address,
            per_post: self.delete_attempts_per_post,
            window: std::time::Duration::from_secs(self.delete_attempts_window_secs),
        }
    }

    /// Where DNSBL lookups go: `dnsbl_server`, port 53 unless it names one.
    pub fn dnsbl_resolver(&self) -> Option<Result<SocketAddr, String>> {
        let text = self.dnsbl_server.as_deref()?;
        let parsed = text
            .parse::<SocketAddr>()
            .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
            .map_err(|_| format!("dnsbl_server `{text}` is not an address or address:port"));
        Some(parsed)
    }

    fn check_dnsbl(&self) -> Result<(), String> {
        if let Some(Err(e)) = self.dnsbl_resolver() {
            return Err(e);
        }
        if !(10..=5000).contains(&self.dnsbl_timeout_ms) {
            return Err("dnsbl_timeout_ms must be from 10 to 5000".into());
        }
        if self.dnsbl_cache_secs > 86_400 {
            return Err("dnsbl_cache_secs must be at most 86400".into());
        }
        if self.dnsbl_zones.len() > 8 {
            return Err("dnsbl_zones lists at most 8 zones".into());
        }
        for zone in &self.dnsbl_zones {
            if !crate::antispam::dnsbl::valid_zone(zone) {
                return Err(format!(
                    "dnsbl_zones: `{}` is not a DNS name like dnsbl.example.org",
                    zone.escape_debug()
                ));
            }
        }
        Ok(())
    }

    /// `ip_retention_days` in whole seconds, at least one.
    pub fn ip_retention_secs(&self) -> u64 {
        ((self.ip_retention_days * 86_400.0).ceil() as u64).max(1)
    }

    /// Reads and checks a config file; the error names the file, and the key when one is at fault.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("config file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// Rules serde cannot express. Also run after command-line overrides.
    pub fn validate(&self) -> Result<(), String> {
        if self.boards.is_empty() {
            return Err("at least one [[boards]] table is needed".into());
        }
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        if self.max_connections_per_client == 0 || self.max_streams_per_client == 0 {
            return Err(
                "max_connections_per_client and max_streams_per_client must be at least 1".into(),
            );
        }
        let timeouts = [
            ("header_timeout_secs", self.header_timeout_secs),
            ("body_timeout_secs", self.body_timeout_secs),
            ("write_timeout_secs", self.write_timeout_secs),
            ("stream_max_secs", self.stream_max_secs),
        ];
        for (key, secs) in timeouts {
            if !(1..=86_400).contains(&secs) {
                return Err(format!("{key} must be from 1 to 86400 seconds"));
            }
        }
        if self.delete_attempts_per_address == 0 || self.delete_attempts_per_post == 0 {
            return Err(
                "delete_attempts_per_address and delete_attempts_per_post must be at least 1"
                    .into(),
            );
        }
        if !(1..=86_400).contains(&self.delete_attempts_window_secs) {
            return Err("delete_attempts_window_secs must be from 1 to 86400".into());
        }
        if self.request_budget_per_minute > 100_000 || self.request_budget_burst > 100_000 {
            return Err(
                "request_budget_per_minute and request_budget_burst must be at most 100000".into(),
            );
        }
        if (self.request_budget_per_minute == 0) != (self.request_budget_burst == 0) {
            return Err(
                "request_budget_per_minute and request_budget_burst are both 0 (no budget) or \
                 both at least 1"
                    .into(),
            );
        }
        self.check_dnsbl()?;
        if !(16..=1024).contains(&self.thumbnail_size) {
            return Err("thumbnail_size must be from 16 to 1024 pixels".into());
        }
        if self.file_ban_distance > 20 {
            return Err("file_ban_distance must be from 0 to 20 bits".into());
        }
        if self.media_memory_bytes < 64 << 20 {
            return Err("media_memory_bytes must be at least 67108864 (64 MiB)".into());
        }
        if !(self.ip_retention_days > 0.0 && self.ip_retention_days <= MAX_RETENTION_DAYS) {
            return Err(format!(
                "ip_retention_days must be more than 0 and at most {MAX_RETENTION_DAYS}"
            ));
        }
        if let Some(ffmpeg) = &self.ffmpeg_path {
            let runs = std::process::Command::new(ffmpeg)
                .arg("-version")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !runs {
                return Err(format!(
                    "ffmpeg_path: `{} -version` does not run; install ffmpeg or remove the key",
                    ffmpeg.display()
                ));
            }
        }
        if let Some(s3) = &self.s3 {
            s3.validate()?;
        }
        self.accounts.validate()?;
        if let Some(smtp) = &self.smtp {
            smtp.validate()?;
        }
        self.captcha.validate()?;
        let mut seen = std::collections::HashSet::new();
        for board in &self.boards {
            board.validate()?;
            if !seen.insert(&board.slug) {
                return Err(format!("board `{}` is listed twice", board.slug));
            }
        }
        Ok(())
    }
}

/// The longest `ip_retention_days`: ten years.
const MAX_RETENTION_DAYS: f64 = 3650.0;
