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
    /// Seconds in-flight requests get to finish after SIGTERM before the server stops anyway.
    pub shutdown_grace_secs: u64,
    /// Upper bound, in bytes, of the in-memory cache of serialized responses.
    pub cache_bytes: usize,
    /// Boards created at start when missing, and whose settings follow this file.
    pub boards: Vec<BoardConfig>,
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
}

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
            max_connections: 10_000,
            shutdown_grace_secs: 10,
            cache_bytes: 256 << 20,
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
        }
    }
}

impl Config {
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

/// Longest board slug; slugs appear in every URL and key, so they stay short.
pub const MAX_SLUG_LEN: usize = 16;

/// A slug is 1 to 16 characters of `a-z` and `0-9`.
pub fn valid_slug(slug: &str) -> bool {
    (1..=MAX_SLUG_LEN).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl BoardConfig {
    fn validate(&self) -> Result<(), String> {
        let slug = &self.slug;
        if !valid_slug(slug) {
            return Err(format!(
                "board slug `{slug}` must be 1 to {MAX_SLUG_LEN} characters of a-z and 0-9"
            ));
        }
        if self.title.trim().is_empty() || self.title.chars().count() > 100 {
            return Err(format!("board `{slug}`: title must be 1 to 100 characters"));
        }
        if self.description.chars().count() > 1000 {
            return Err(format!(
                "board `{slug}`: description is over 1000 characters"
            ));
        }
        let positive = [
            ("thread_limit", self.thread_limit),
            ("threads_per_page", self.threads_per_page),
            ("max_body_chars", self.max_body_chars),
            ("max_subject_chars", self.max_subject_chars),
            ("max_name_chars", self.max_name_chars),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(format!("board `{slug}`: {key} must be at least 1"));
            }
        }
        // Bodies are read whole before validation; keep them well under the request bound.
        if self.max_body_chars > 20_000 {
            return Err(format!("board `{slug}`: max_body_chars is at most 20000"));
        }
        if self.max_subject_chars > 1000 || self.max_name_chars > 1000 {
            return Err(format!(
                "board `{slug}`: max_subject_chars and max_name_chars are at most 1000"
            ));
        }
        Ok(())
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
        assert_eq!(config.shutdown_grace_secs, default.shutdown_grace_secs);
        assert_eq!(config.cache_bytes, default.cache_bytes);
        assert_eq!(config.boards, default.boards);
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
        ];
        for (text, needle) in cases {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?} gave {err}");
        }
    }

    #[test]
    fn proxies_take_addresses_and_networks() {
        let config = Config::parse("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]").unwrap();
        assert!(config.trusted_proxies[0].contains(&"10.1.2.3".parse().unwrap()));
        assert!(!config.trusted_proxies[0].contains(&"11.1.2.3".parse().unwrap()));
        assert!(config.trusted_proxies[1].contains(&"::1".parse().unwrap()));
    }
}
