//! Database snapshots: a consistent copy of every table taken from one read transaction (writes
//! go on), compressed with zstd, uploaded with a manifest, and thinned to the last 24 hourly
//! and 30 daily ones.

use std::collections::BTreeSet;
use std::io::{Read, Write as _};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Backup, Bucket};
use crate::app::App;
use crate::poster::SECRET_FILE;
use crate::storage::{Counts, Store, SCHEMA_VERSION};

pub const DIR: &str = "snapshots/";
const HOURLY_KEPT: usize = 24;
const DAILY_KEPT: usize = 30;
const ZSTD_LEVEL: i32 = 3;

/// What a snapshot holds, uploaded beside it as `<name>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// UTC time of the snapshot, `20261123T101500.123Z`; sorts in time order.
    pub name: String,
    /// Unix seconds.
    pub created_at: u64,
    pub schema_version: u64,
    pub wani_version: String,
    /// Rows per table.
    pub counts: Counts,
    /// Hex SHA-256 and size of the database file before compression.
    pub sha256: String,
    pub bytes: u64,
    pub compressed_bytes: u64,
}

impl Manifest {
    pub fn data_key(name: &str) -> String {
        format!("{DIR}{name}.redb.zst")
    }

    pub fn manifest_key(name: &str) -> String {
        format!("{DIR}{name}.json")
    }
}

/// Takes a snapshot of `store` and uploads it with its manifest (the manifest last, so a
/// listed manifest always has its data), then the server secret when the bucket lacks it,
/// then deletes the snapshots retention no longer keeps.
pub async fn take(store: &Store, bucket: &Bucket, data_dir: &Path) -> Result<Manifest, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let name = name_of(now.as_millis() as u64);
    let work = data_dir.join("tmp");
    let (store, raw, packed) = (
        store.clone(),
        work.join(format!("snapshot-{name}.redb")),
        work.join(format!("snapshot-{name}.redb.zst")),
    );
    let built = {
        let (raw, packed) = (raw.clone(), packed.clone());
        tokio::task::spawn_blocking(move || -> Result<_, String> {
            let counts = store.snapshot_into(&raw)?;
            let (sha256, bytes) = compress(&raw, &packed)?;
            let compressed = std::fs::metadata(&packed).map_err(|e| e.to_string())?.len();
            Ok((counts, sha256, bytes, compressed))
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
    };
    let _ = std::fs::remove_file(&raw);
    let result = async {
        let (counts, sha256, bytes, compressed_bytes) = built?;
        let manifest = Manifest {
            name: name.clone(),
            created_at: now.as_secs(),
            schema_version: SCHEMA_VERSION,
            wani_version: env!("CARGO_PKG_VERSION").into(),
            counts,
            sha256,
            bytes,
            compressed_bytes,
        };
        bucket
            .put_file(
                &Manifest::data_key(&name),
                &packed,
                "application/zstd",
                None,
            )
            .await?;
        let json = serde_json::to_vec_pretty(&manifest).expect("manifests serialize");
        bucket
            .put_bytes(&Manifest::manifest_key(&name), json)
            .await?;
        if bucket.head(SECRET_FILE).await?.is_none() {
            let secret = data_dir.join(SECRET_FILE);
            bucket
                .put_file(SECRET_FILE, &secret, "application/octet-stream", None)
                .await?;
        }
        prune(bucket).await?;
        Ok(manifest)
    }
    .await;
    let _ = std::fs::remove_file(&packed);
    result
}

/// Compresses `raw` into `packed`; returns the hex SHA-256 and size of `raw`.
fn compress(raw: &Path, packed: &Path) -> Result<(String, u64), String> {
    let fail = |e: std::io::Error| format!("compressing the snapshot: {e}");
    let mut input = std::fs::File::open(raw).map_err(fail)?;
    let output = std::fs::File::create(packed).map_err(fail)?;
    let mut encoder = zstd::Encoder::new(output, ZSTD_LEVEL).map_err(fail)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 20];
    let mut bytes = 0;
    loop {
        let n = input.read(&mut buf).map_err(fail)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        encoder.write_all(&buf[..n]).map_err(fail)?;
        bytes += n as u64;
    }
    encoder.finish().map_err(fail)?.sync_all().map_err(fail)?;
    Ok((hex(&hasher.finalize()), bytes))
}

/// Decompresses `packed` into `raw`; returns the hex SHA-256 and size of what it wrote.
pub fn decompress(packed: &Path, raw: &Path) -> Result<(String, u64), String> {
    let fail = |e: std::io::Error| format!("decompressing the snapshot: {e}");
    let input = std::fs::File::open(packed).map_err(fail)?;
    let mut decoder = zstd::Decoder::new(input).map_err(fail)?;
    let mut output = std::fs::File::create(raw).map_err(fail)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 20];
    let mut bytes = 0;
    loop {
        let n = decoder.read(&mut buf).map_err(fail)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n]).map_err(fail)?;
        bytes += n as u64;
    }
    output.sync_all().map_err(fail)?;
    Ok((hex(&hasher.finalize()), bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The snapshots in the bucket, oldest first, by the manifests listed.
pub async fn list(bucket: &Bucket) -> Result<Vec<String>, String> {
    let keys = bucket.list(DIR).await?;
    Ok(keys
        .iter()
        .filter_map(|k| k.strip_prefix(DIR)?.strip_suffix(".json"))
        .filter(|name| millis_of(name).is_some())
        .map(str::to_owned)
        .collect())
}

pub async fn manifest(bucket: &Bucket, name: &str) -> Result<Manifest, String> {
    let key = Manifest::manifest_key(name);
    let bytes = bucket
        .get_bytes(&key)
        .await?
        .ok_or_else(|| format!("there is no snapshot `{name}` in {}", bucket.describe()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{key} is not a manifest: {e}"))
}

/// Deletes the snapshots retention does not keep.
async fn prune(bucket: &Bucket) -> Result<(), String> {
    let names = list(bucket).await?;
    for name in expired(&names) {
        bucket.delete(&Manifest::manifest_key(&name)).await?;
        bucket.delete(&Manifest::data_key(&name)).await?;
    }
    Ok(())
}

/// The snapshots to delete: all but the newest of each of the last 24 hours that have one and
/// the newest of each of the last 30 days that have one. Names that do not parse are kept.
pub fn expired(names: &[String]) -> Vec<String> {
    let mut dated: Vec<(u64, &String)> = names
        .iter()
        .filter_map(|n| Some((millis_of(n)?, n)))
        .collect();
    dated.sort_unstable_by(|a, b| b.cmp(a));
    let mut keep = BTreeSet::new();
    for (period, count) in [(3_600_000, HOURLY_KEPT), (86_400_000, DAILY_KEPT)] {
        let mut seen = BTreeSet::new();
        for (ms, name) in &dated {
            if seen.len() == count && !seen.contains(&(ms / period)) {
                break;
            }
            if seen.insert(ms / period) {
                keep.insert(*name);
            }
        }
    }
    dated
        .iter()
        .filter(|(_, n)| !keep.contains(n))
        .map(|(_, n)| (*n).clone())
        .collect()
}

/// `20261123T101500.123Z` for a time in Unix milliseconds.
pub fn name_of(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}

/// The time of a snapshot name, in Unix milliseconds.
pub fn millis_of(name: &str) -> Option<u64> {
    let b = name.as_bytes();
    if b.len() != 20 || b[8] != b'T' || b[15] != b'.' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = name.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s, ms) = (num(9..11)?, num(11..13)?, num(13..15)?, num(16..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(y as i64, mo as u32, d as u32);
    let days = u64::try_from(days).ok()?;
    Some(((days * 86_400 + h * 3600 + mi * 60 + s) * 1000) + ms)
}

// Civil-date conversions for the proleptic Gregorian calendar (H. Hinnant's algorithms).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The snapshot timer: one snapshot every `interval` (never, for zero), the first one
/// `interval` after start.
pub(super) async fn every_interval(app: Arc<App>, backup: Arc<Backup>) {
    let interval = backup.snapshot_interval;
    if interval.is_zero() {
        return;
    }
    loop {
        tokio::time::sleep(interval).await;
        // Failures are reported by `snapshot`; the next round tries again.
        let _ = backup.snapshot(&app).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_in_time_order() {
        for ms in [0, 1_795_000_000_123, 951_782_400_000, 4_102_444_799_999] {
            let name = name_of(ms);
            assert_eq!(millis_of(&name), Some(ms), "{name}");
        }
        assert_eq!(name_of(1_795_428_900_123), "20261123T101500.123Z");
        assert!(name_of(1_000) < name_of(2_000));
        for bad in ["", "20261323T101500.123Z", "2026112xT101500.123Z", "a.json"] {
            assert_eq!(millis_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn retention_keeps_24_hourly_and_30_daily() {
        const HOUR: u64 = 3_600_000;
        let start = 1_795_000_000_000 - 1_795_000_000_000 % (86_400_000);
        // Four snapshots an hour for 40 days.
        let names: Vec<String> = (0..40 * 24 * 4)
            .map(|i| name_of(start + i * HOUR / 4))
            .collect();
        let gone = expired(&names);
        let kept: Vec<&String> = names.iter().filter(|n| !gone.contains(n)).collect();
        // The newest of each of the last 24 hours, and of each of the 30 last days, of which
        // the last day's is already among the hourly ones.
        assert_eq!(kept.len(), 24 + 29, "{kept:?}");
        let newest = names.last().unwrap();
        assert!(kept.contains(&newest));
        let day_30_ago = name_of(start + 10 * 24 * HOUR + 23 * HOUR + 3 * HOUR / 4);
        assert!(kept.contains(&&day_30_ago), "{day_30_ago}");
        let day_31_ago = name_of(start + 9 * 24 * HOUR + 23 * HOUR + 3 * HOUR / 4);
        assert!(gone.contains(&day_31_ago));
        // One an hour for five hours: nothing to delete.
        let hourly: Vec<String> = names.iter().step_by(4).take(5).cloned().collect();
        assert!(expired(&hourly).is_empty());
        // Two in one hour: the older goes.
        assert_eq!(expired(&names[..2]), vec![names[0].clone()]);
    }
}
