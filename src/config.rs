//! The typed configuration: one TOML file, every key with a default, unknown keys refused.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
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

/// The `[s3]` table: the bucket that holds the durable copy of files and database.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The service's URL, for anything but AWS (Garage, MinIO, B2, R2, ...).
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub bucket: String,
    /// Prepended to every object key, so one bucket can hold several things.
    #[serde(default)]
    pub prefix: String,
    /// `https://host/bucket/key` rather than `https://bucket.host/key`; most self-hosted
    /// services need it.
    #[serde(default)]
    pub path_style: bool,
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub secret_access_key: Option<String>,
    #[serde(default)]
    pub secret_access_key_file: Option<PathBuf>,
    /// How often the database is snapshotted: `90s`, `30m`, `1h`, `1d`; `0` for never (only
    /// `wani backup`).
    #[serde(default = "default_snapshot_interval", deserialize_with = "interval")]
    pub snapshot_interval: std::time::Duration,
}

// Never print the secret, whatever logs a config.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("path_style", &self.path_style)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("secret_access_key_file", &self.secret_access_key_file)
            .field("snapshot_interval", &self.snapshot_interval)
            .finish()
    }
}

fn default_snapshot_interval() -> std::time::Duration {
    std::time::Duration::from_secs(3600)
}

/// Parses `0`, `90s`, `30m`, `1h` or `1d`.
pub fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("`{text}` is not a duration like 90s, 30m, 1h or 1d (or 0)");
    if text == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    let split = text.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(scale)
        .filter(|secs| *secs <= 365 * 86_400)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is over a year"))
}

fn interval<'de, D: serde::Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_interval(&text).map_err(serde::de::Error::custom)
}

impl S3Config {
    fn validate(&self) -> Result<(), String> {
        if self.bucket.trim().is_empty() {
            return Err("[s3] bucket must not be empty".into());
        }
        if self.secret_access_key.is_some() && self.secret_access_key_file.is_some() {
            return Err("[s3] give secret_access_key or secret_access_key_file, not both".into());
        }
        if let Some(endpoint) = &self.endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(format!(
                    "[s3] endpoint `{endpoint}` must start with http:// or https://"
                ));
            }
        }
        if self.prefix.starts_with('/') {
            return Err("[s3] prefix must not start with /".into());
        }
        if self.snapshot_interval != std::time::Duration::ZERO
            && self.snapshot_interval < std::time::Duration::from_secs(10)
        {
            return Err("[s3] snapshot_interval must be 0 or at least 10s".into());
        }
        Ok(())
    }
}

/// One `[[boards]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoardConfig {
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Replies after this many no longer bump the thread.
    pub bump_limit: u32,
    /// Live threads kept; a new thread beyond it archives the least recently bumped one.
    pub thread_limit: u32,
    pub threads_per_page: u32,
    /// Maximum length of a post body, in characters.
    pub max_body_chars: u32,
    pub max_subject_chars: u32,
    pub max_name_chars: u32,
    /// Files one post may carry.
    pub max_files: u32,
    /// Whether a new thread must carry a file.
    pub require_file: bool,
    /// File types the board takes: any of `jpeg`, `png`, `gif`, `webp`, and, when
    /// `ffmpeg_path` is set, `webm` and `mp4`.
    pub allowed_types: Vec<String>,
    /// Largest single file, in bytes.
    pub max_file_bytes: u64,
    /// Largest whole post request (text and every file), in bytes.
    pub max_post_bytes: u64,
    /// Largest image, in upright pixels.
    pub max_image_width: u32,
    pub max_image_height: u32,
    /// Whether the uploader's file name is shown (sanitized) with the file.
    pub keep_file_names: bool,
    /// Names and tripcodes are ignored: everyone is Anonymous.
    pub forced_anon: bool,
    /// Each post shows an id per poster per thread.
    pub poster_ids: bool,
    /// Seconds after posting during which a poster may delete their post; 0 turns it off.
    pub delete_window_secs: u64,
    /// Days an archived thread is kept before it is deleted; 0 deletes threads at once when
    /// they leave the live list.
    pub archive_days: u32,
    /// Whether the board's posts appear in the recent posts across boards.
    pub show_in_recent: bool,
    /// Distinct posts and boards one post may link; further `>>` links stay plain text.
    pub max_quotes: u32,
    /// Replies a thread takes; the reply that reaches it locks the thread.
    pub max_replies: u32,
    /// The board's rules, in post markup.
    pub rules: String,
    /// Not safe for work.
    pub nsfw: bool,
    /// Seconds one client network (an IPv4 address, an IPv6 /64) waits between new threads
    /// on this board; 0 turns the cooldown off.
    pub cooldown_threads_secs: u32,
    /// Seconds between replies from one client network.
    pub cooldown_replies_secs: u32,
    /// Seconds between replies with files from one client network.
    pub cooldown_images_secs: u32,
    /// Seconds during which a body already posted on the board, by anyone, is refused; 0
    /// turns the check off.
    pub duplicate_window_secs: u32,
    /// New threads the board takes per minute from everyone together; 0 for no cap.
    pub max_threads_per_minute: u32,
    /// Whether the board's public log names the staff account behind each action.
    pub public_log_names: bool,
    /// What posters must solve: `off`, `pow`, `text`, or `auto` (the config's `auto_mode`
    /// while the board is busy).
    pub captcha: String,
}

/// The file types a board may allow, by their config names. Video needs `ffmpeg_path` too.
pub const FILE_TYPES: &[&str] = &["jpeg", "png", "gif", "webp", "webm", "mp4"];

/// The types of [`FILE_TYPES`] that are video, taken only when `ffmpeg_path` is set.
pub const VIDEO_TYPES: &[&str] = &["webm", "mp4"];

/// A trusted proxy: an address or a network, written as a string in TOML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySpec(IpNet);

impl ProxySpec {
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl std::str::FromStr for ProxySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(ProxySpec(net));
        }
        s.parse::<IpAddr>()
            .map(|ip| ProxySpec(IpNet::from(ip)))
            .map_err(|_| format!("`{s}` is neither an IP address nor a CIDR network"))
    }
}

/// As written in the config: a lone address without its `/32` or `/128`.
impl std::fmt::Display for ProxySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl<'de> Deserialize<'de> for ProxySpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
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

impl Default for BoardConfig {
    fn default() -> Self {
        BoardConfig {
            slug: String::new(),
            title: String::new(),
            description: String::new(),
            bump_limit: 300,
            thread_limit: 150,
            threads_per_page: 10,
            max_body_chars: 4000,
            max_subject_chars: 100,
            max_name_chars: 50,
            max_files: 4,
            require_file: false,
            allowed_types: FILE_TYPES.iter().map(|t| (*t).to_owned()).collect(),
            max_file_bytes: 8 << 20,
            max_post_bytes: 20 << 20,
            max_image_width: 10_000,
            max_image_height: 10_000,
            keep_file_names: true,
            forced_anon: false,
            poster_ids: false,
            delete_window_secs: 3600,
            archive_days: 7,
            show_in_recent: true,
            // Tinyboard and vichan ship `max_cites = 45`: enough for any real reply.
            max_quotes: 45,
            // Past 4chan's bump limits (300 to 500), so a thread normally dies by sinking; the
            // cap only stops one thread from growing without end.
            max_replies: 1000,
            rules: String::new(),
            nsfw: false,
            // 4chan's cooldowns on most boards.
            cooldown_threads_secs: 600,
            cooldown_replies_secs: 60,
            cooldown_images_secs: 60,
            duplicate_window_secs: 600,
            // Well past a real board's pace, well below a flood that empties the catalog.
            max_threads_per_minute: 10,
            public_log_names: false,
            captcha: "off".into(),
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

/// Longest board slug; slugs appear in every URL and key, so they stay short.
pub const MAX_SLUG_LEN: usize = 16;

/// Slugs no board may have: the first path segments of the server's own routes, which the
/// 4chan-compatible paths `/{board}/...` would otherwise collide with.
pub const RESERVED_SLUGS: &[&str] = &["admin", "api", "app", "auth", "files", "healthz", "thumbs"];

/// A slug is 1 to 16 characters of `a-z` and `0-9`.
pub fn valid_slug(slug: &str) -> bool {
    (1..=MAX_SLUG_LEN).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl BoardConfig {
    /// The same bounds as the admin API's (`crate::settings`), in the config's words. Video
    /// types pass here: without `ffmpeg_path` they are dropped when the board is seeded.
    fn validate(&self) -> Result<(), String> {
        crate::settings::check_board(&crate::model::Board::from(self), true)
            .map_err(|e| format!("board `{}`: {}", self.slug, e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_are_valid() {
        let config = Config::default();
        config.validate().unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.boards[0].slug, "b");
        assert_eq!(config.boards[0].title, "Random");
    }

    #[test]
    fn example_file_parses_to_the_defaults() {
        let text = include_str!("../config.example.toml");
        let config = Config::parse(text).unwrap();
        let default = Config::default();
        assert_eq!(config.listen, default.listen);
        assert_eq!(config.data_dir, default.data_dir);
        assert_eq!(config.trusted_proxies, default.trusted_proxies);
        assert_eq!(config.max_connections, default.max_connections);
        let slots = |c: &Config| {
            [
                c.max_connections_per_client as u64,
                c.max_streams_per_client as u64,
                c.header_timeout_secs,
                c.body_timeout_secs,
                c.write_timeout_secs,
                c.stream_max_secs,
            ]
        };
        assert_eq!(slots(&config), slots(&default));
        assert_eq!(config.shutdown_grace_secs, default.shutdown_grace_secs);
        assert_eq!(config.cache_bytes, default.cache_bytes);
        assert_eq!(config.delete_limits(), default.delete_limits());
        assert_eq!(config.flood_control, default.flood_control);
        assert_eq!(
            (
                config.request_budget_per_minute,
                config.request_budget_burst
            ),
            (
                default.request_budget_per_minute,
                default.request_budget_burst
            )
        );
        assert_eq!(config.dnsbl_zones, default.dnsbl_zones);
        assert_eq!(config.dnsbl_server, default.dnsbl_server);
        assert_eq!(
            (config.dnsbl_timeout_ms, config.dnsbl_cache_secs),
            (default.dnsbl_timeout_ms, default.dnsbl_cache_secs)
        );
        assert_eq!(config.thumbnail_size, default.thumbnail_size);
        assert_eq!(config.ffmpeg_path, default.ffmpeg_path);
        assert_eq!(config.boards, default.boards);
        assert_eq!(config.s3, default.s3);
        assert_eq!(config.accounts, default.accounts);
        assert_eq!(config.smtp, default.smtp);
        assert_eq!(config.captcha, default.captcha);
        assert_eq!(config.ip_retention_days, default.ip_retention_days);
    }

    #[test]
    fn address_retention_takes_fractions_of_a_day() {
        // (key's value, seconds kept; None: refused)
        let cases = [
            ("30", Some(30 * 86_400)),
            ("0.5", Some(43_200)),
            ("0.00002", Some(2)),
            ("1e-9", Some(1)),
            ("3650", Some(3650 * 86_400)),
            ("0", None),
            ("-1", None),
            ("3651", None),
            ("nan", None),
            ("inf", None),
        ];
        for (value, want) in cases {
            let parsed = Config::parse(&format!("ip_retention_days = {value}"));
            assert_eq!(
                parsed.as_ref().ok().map(Config::ip_retention_secs),
                want,
                "{value}: {parsed:?}"
            );
            if want.is_none() {
                assert!(parsed.unwrap_err().contains("ip_retention_days"));
            }
        }
    }

    #[test]
    fn s3_section_parses_and_hides_its_secret() {
        let config = Config::parse(
            "[s3]\nbucket = \"wani\"\nsecret_access_key = \"hunter2\"\nsnapshot_interval = \"30m\"",
        )
        .unwrap();
        let s3 = config.s3.unwrap();
        assert_eq!(s3.snapshot_interval.as_secs(), 1800);
        assert!(!format!("{s3:?}").contains("hunter2"));
        let default = Config::parse("[s3]\nbucket = \"wani\"")
            .unwrap()
            .s3
            .unwrap();
        assert_eq!(default.snapshot_interval.as_secs(), 3600);
        for (text, needle) in [
            ("[s3]\nbucket = \"\"", "bucket"),
            ("[s3]\nbucket = \"w\"\nsnapshot_interval = \"5x\"", "5x"),
            ("[s3]\nbucket = \"w\"\nsnapshot_interval = \"9s\"", "10s"),
            ("[s3]\nbucket = \"w\"\nendpoint = \"s3.example\"", "http"),
            ("[s3]\nbucket = \"w\"\nbuckit = \"w\"", "buckit"),
            (
                "[s3]\nbucket = \"w\"\nsecret_access_key = \"a\"\nsecret_access_key_file = \"b\"",
                "not both",
            ),
        ] {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?} gave {err}");
        }
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("0").unwrap().as_secs(), 0);
        assert_eq!(parse_interval("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_interval("1d").unwrap().as_secs(), 86_400);
        assert!(parse_interval("").is_err());
        assert!(parse_interval("h").is_err());
        assert!(parse_interval("400d").is_err());
        assert!(parse_interval("-1h").is_err());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::parse("listne = \"127.0.0.1:1\"").unwrap_err();
        assert!(err.contains("listne"), "{err}");
        let err =
            Config::parse("[[boards]]\nslug = \"a\"\ntitle = \"A\"\nbump_limt = 3").unwrap_err();
        assert!(err.contains("bump_limt"), "{err}");
    }

    #[test]
    fn bad_values_are_refused() {
        let cases = [
            ("[[boards]]\nslug = \"A!\"\ntitle = \"x\"", "slug"),
            ("[[boards]]\nslug = \"a\"\ntitle = \"\"", "title"),
            (
                "[[boards]]\nslug = \"a\"\ntitle = \"x\"\nthread_limit = 0",
                "thread_limit",
            ),
            (
                "[[boards]]\nslug = \"a\"\ntitle = \"x\"\n[[boards]]\nslug = \"a\"\ntitle = \"y\"",
                "twice",
            ),
            ("trusted_proxies = [\"nonsense\"]", "nonsense"),
            ("boards = []", "at least one"),
            (
                "[[boards]]\nslug = \"a\"\ntitle = \"x\"\nallowed_types = [\"svg\"]",
                "svg",
            ),
            (
                "[[boards]]\nslug = \"a\"\ntitle = \"x\"\nmax_file_bytes = 100\nmax_post_bytes = 10",
                "max_file_bytes",
            ),
            ("thumbnail_size = 5", "thumbnail_size"),
            ("max_connections_per_client = 0", "max_connections_per_client"),
            ("max_streams_per_client = 0", "max_streams_per_client"),
            ("header_timeout_secs = 0", "header_timeout_secs"),
            ("body_timeout_secs = 0", "body_timeout_secs"),
            ("write_timeout_secs = 100000", "write_timeout_secs"),
            ("stream_max_secs = 0", "stream_max_secs"),
            ("request_budget_burst = 0", "request_budget"),
            ("request_budget_per_minute = 200000", "request_budget"),
            ("dnsbl_zones = [\"bad zone\"]", "bad zone"),
            ("dnsbl_zones = [\"a..b\"]", "a..b"),
            ("dnsbl_server = \"resolver\"", "dnsbl_server"),
            ("dnsbl_timeout_ms = 0", "dnsbl_timeout_ms"),
            (
                "[[boards]]\nslug = \"a\"\ntitle = \"x\"\ncooldown_replies_secs = 90000",
                "cooldown_replies_secs",
            ),
        ];
        for (text, needle) in cases {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?} gave {err}");
        }
    }

    #[test]
    fn reserved_slugs_are_refused() {
        for slug in RESERVED_SLUGS {
            let text = format!("[[boards]]\nslug = \"{slug}\"\ntitle = \"x\"");
            let err = Config::parse(&text).unwrap_err();
            assert!(err.contains("reserved"), "{slug}: {err}");
        }
        Config::parse("[[boards]]\nslug = \"apis\"\ntitle = \"x\"").unwrap();
    }

    #[test]
    fn proxies_take_addresses_and_networks() {
        let config = Config::parse("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]").unwrap();
        assert!(config.trusted_proxies[0].contains(&"10.1.2.3".parse().unwrap()));
        assert!(!config.trusted_proxies[0].contains(&"11.1.2.3".parse().unwrap()));
        assert!(config.trusted_proxies[1].contains(&"::1".parse().unwrap()));
    }
}
