//! File bans: files refused at upload by their exact SHA-256 or, for pictures, by likeness (the
//! perceptual hash within `file_ban_distance` bits), on one board or on every board.
//!
//! Bans are stored in redb (`file_bans` table); [`BanSet`] is the in-memory copy an upload is
//! checked against, rebuilt whole after each change. Checking is a hash lookup for the exact
//! hash and a linear scan with popcount over the 64-bit hashes of the bans that apply, a few
//! nanoseconds each (readme.md, "File bans", gives the measured cost).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorKind};
use crate::media::phash;

/// A file ban, as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileBan {
    /// Hex SHA-256 of the stored (cleaned) file, as posts show it.
    pub sha256: String,
    /// The board it applies to; `None`: every board.
    pub board: Option<String>,
    /// The perceptual hash banned with it, 16 hex digits; `None` when the server has no
    /// distinctive hash for the file (not stored here, not a picture, a nearly flat picture):
    /// then only the exact file is refused.
    pub dhash: Option<String>,
    /// The public reason, told to a poster whose upload it refuses.
    pub reason: Option<String>,
    pub actor: String,
    pub created_at: u64,
}

/// 16 lower-case hex digits.
pub fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

fn parse_hex(text: &str) -> Option<u64> {
    (text.len() == 16)
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
}

/// Every ban, arranged for checking an upload.
#[derive(Default)]
pub struct BanSet {
    /// `(board or "", sha256)`.
    exact: HashSet<(String, String)>,
    /// Perceptual hashes by board ("" for every board), each with its ban's reason.
    likeness: HashMap<String, Vec<(u64, Option<String>)>>,
    reasons: HashMap<(String, String), Option<String>>,
}

impl BanSet {
    pub fn new(bans: Vec<FileBan>) -> BanSet {
        let mut set = BanSet::default();
        for ban in bans {
            let scope = ban.board.clone().unwrap_or_default();
            if let Some(hash) = ban.dhash.as_deref().and_then(parse_hex) {
                set.likeness
                    .entry(scope.clone())
                    .or_default()
                    .push((hash, ban.reason.clone()));
            }
            set.reasons
                .insert((scope.clone(), ban.sha256.clone()), ban.reason);
            set.exact.insert((scope, ban.sha256));
        }
        set
    }

    /// Refuses an upload on `board` whose stored form hashes to `sha256` and whose thumbnail
    /// hashes to `dhash`, when a ban on that board or on every board matches it.
    pub fn check(
        &self,
        board: &str,
        sha256: &str,
        dhash: u64,
        max_distance: u32,
    ) -> Result<(), ApiError> {
        for scope in ["", board] {
            let key = (scope.to_owned(), sha256.to_owned());
            if self.exact.contains(&key) {
                let reason = self.reasons.get(&key).cloned().flatten();
                return Err(banned(board, scope, reason.as_deref()));
            }
        }
        for scope in ["", board] {
            let Some(hashes) = self.likeness.get(scope) else {
                continue;
            };
            let hit = hashes
                .iter()
                .find(|(banned, _)| phash::distance(*banned, dhash) <= max_distance);
            if let Some((_, reason)) = hit {
                return Err(banned(board, scope, reason.as_deref()));
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.exact.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }
}

fn banned(board: &str, scope: &str, reason: Option<&str>) -> ApiError {
    let place = if scope.is_empty() {
        "on this server".to_owned()
    } else {
        format!("on /{board}/")
    };
    let mut message = format!("This file is banned {place}");
    match reason {
        Some(reason) => message.push_str(&format!(": {reason}")),
        None => message.push('.'),
    }
    ApiError::new(ErrorKind::FileBanned, message).with_field("file")
}

/// The ban set in use, swapped whole after each change.
#[derive(Default)]
pub struct Live {
    current: RwLock<Arc<BanSet>>,
    /// Held while a new set is read and built, so a slower rebuild that read older rows never
    /// replaces a newer one.
    rebuilding: tokio::sync::Mutex<()>,
}

impl Live {
    pub fn current(&self) -> Arc<BanSet> {
        self.current.read().expect("file bans lock").clone()
    }

    pub async fn rebuilding(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.rebuilding.lock().await
    }

    pub fn set(&self, set: BanSet) {
        *self.current.write().expect("file bans lock") = Arc::new(set);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ban(sha: char, board: Option<&str>, dhash: Option<u64>) -> FileBan {
        FileBan {
            sha256: sha.to_string().repeat(64),
            board: board.map(str::to_owned),
            dhash: dhash.map(hex),
            reason: Some("spam".into()),
            actor: "mod".into(),
            created_at: 0,
        }
    }

    #[test]
    fn exact_and_likeness_by_scope() {
        let picture = 0xF0F0_F0F0_0F0F_0F0F_u64;
        let set = BanSet::new(vec![
            ban('a', None, None),
            ban('b', Some("b"), Some(picture)),
            ban('c', None, Some(!picture)),
        ]);
        let sha = |c: char| c.to_string().repeat(64);
        let cases: &[(&str, char, u64, bool)] = &[
            ("b", 'a', 0, false),
            ("t", 'a', 0, false),
            ("b", 'b', 0, false),
            ("t", 'b', 0, true),
            // Within the distance of /b/'s picture: refused there only.
            ("b", 'd', picture ^ 0b1_0000_0001, false),
            ("t", 'd', picture ^ 0b1_0000_0001, true),
            // Too far from both.
            ("b", 'd', picture ^ 0xFFFF, true),
            // The global picture, three bits off.
            ("t", 'd', !picture ^ 0b111, false),
        ];
        for (board, file, dhash, ok) in cases {
            let result = set.check(board, &sha(*file), *dhash, 4);
            assert_eq!(result.is_ok(), *ok, "/{board}/ {file} {dhash:x}");
            if let Err(e) = result {
                assert_eq!(e.kind, ErrorKind::FileBanned);
                assert!(e.message.ends_with(": spam"), "{}", e.message);
            }
        }
        assert_eq!(set.len(), 3);
        assert_eq!(parse_hex(&hex(picture)), Some(picture));
        assert_eq!(parse_hex("xyz"), None);
    }
}
