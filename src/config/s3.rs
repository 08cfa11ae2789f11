//! The `[s3]` section and the interval syntax its snapshot schedule is written in.

use std::path::PathBuf;

use serde::Deserialize;

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
    pub(super) fn validate(&self) -> Result<(), String> {
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
