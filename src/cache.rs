//! The in-memory cache of serialized GET responses, invalidated precisely by committed writes.
//!
//! Each entry belongs to a *group*: the data it was built from (a thread, a board's listing, a
//! board's settings, the board list). A commit invalidates the groups it touched; nothing else
//! is dropped, so a hot thread stays cached while other threads of its board take replies.
//!
//! Freshness without locking out readers: every invalidation advances a global epoch and stamps
//! the group with it. A reader notes the epoch *before* opening its read transaction. Its entry
//! is valid only while its group's stamp is not newer than that note: if a commit invalidated
//! the group after the reader started, the reader may have read the older state, so the entry
//! is refused (on insert) or ignored (on lookup). Group stamps live in a fixed array indexed by
//! hash, so memory stays bounded; a collision only costs a spurious miss.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use bytes::Bytes;

use crate::storage::Change;

/// A cached response: its body and the strong ETag computed from it.
#[derive(Debug)]
pub struct Cached {
    /// Shared, so answering a hit hands hyper a reference count, not a copy of the body.
    pub body: Bytes,
    pub etag: String,
}

impl Cached {
    pub fn new(body: Vec<u8>) -> Cached {
        let digest = Sha256::digest(&body);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Cached {
            etag: format!("\"{hex}\""),
            body: Bytes::from(body),
        }
    }
}

/// What a response is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Boards,
    Board(String),
    Thread(String, u64),
    Post(String, u64),
    Catalog(String),
    Index(String, u64),
    Archive(String),
    Recent(u64),
    /// The 4chan-compatible documents (`src/fourchan/`): `boards.json`, and a board's
    /// `threads.json`, `catalog.json`, `archive.json`, index page and thread.
    FourBoards,
    FourThreadList(String),
    FourCatalog(String),
    FourArchive(String),
    FourIndex(String, u64),
    FourThread(String, u64),
}

/// What a response was built from; a write invalidates groups.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Group {
    Boards,
    Board(String),
    /// The catalog and every index page of a board.
    Listing(String),
    Thread(String, u64),
    /// The recent posts across boards.
    Recent,
}

const STAMPS: usize = 4096;

struct Entry {
    value: Arc<Cached>,
    group: Group,
    /// The epoch noted before the read that built it.
    epoch: u64,
}

struct Inner {
    entries: HashMap<Key, Entry>,
    stamps: Box<[u64; STAMPS]>,
    /// Unix seconds of each slot's last invalidation; 0 while there has been none.
    changed: Box<[u64; STAMPS]>,
    epoch: u64,
    bytes: usize,
}

pub struct Cache {
    inner: Mutex<Inner>,
    budget: usize,
}

fn slot(group: &Group) -> usize {
    let mut h = DefaultHasher::new();
    group.hash(&mut h);
    (h.finish() as usize) % STAMPS
}

impl Cache {
    pub fn new(budget: usize) -> Cache {
        Cache {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                stamps: Box::new([0; STAMPS]),
                changed: Box::new([0; STAMPS]),
                epoch: 0,
                bytes: 0,
            }),
            budget,
        }
    }

    pub fn get(&self, key: &Key) -> Option<Arc<Cached>> {
        let inner = self.inner.lock().unwrap();
        let entry = inner.entries.get(key)?;
        (inner.stamps[slot(&entry.group)] <= entry.epoch).then(|| entry.value.clone())
    }

    /// The epoch to note before reading the data a response is built from.
    pub fn epoch(&self) -> u64 {
        self.inner.lock().unwrap().epoch
    }

    /// Keeps `value` unless its group was invalidated after `epoch` was noted.
    pub fn insert(&self, key: Key, group: Group, epoch: u64, value: Arc<Cached>) {
        let size = value.body.len() + 64;
        let mut inner = self.inner.lock().unwrap();
        if inner.stamps[slot(&group)] > epoch || size > self.budget {
            return;
        }
        if inner.bytes + size > self.budget {
            // Rare (the budget is far above a busy board's working set); a full clear keeps the
            // bookkeeping trivial and the bound exact.
            inner.entries.clear();
            inner.bytes = 0;
        }
        inner.bytes += size;
        if let Some(old) = inner.entries.insert(
            key,
            Entry {
                value,
                group,
                epoch,
            },
        ) {
            inner.bytes -= old.value.body.len() + 64;
        }
    }

    pub fn invalidate(&self, groups: &[Group]) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut inner = self.inner.lock().unwrap();
        inner.epoch += 1;
        let epoch = inner.epoch;
        for group in groups {
            let slot = slot(group);
            inner.stamps[slot] = epoch;
            // Never backwards, even if the clock is.
            inner.changed[slot] = inner.changed[slot].max(now);
        }
    }

    /// Unix seconds of the last commit that touched `group`, or `None` when none has since the
    /// cache was made. Taken after the commit, so nothing it reports changed later than this
    /// (another group sharing the slot can only make it later than need be): the basis of
    /// `Last-Modified`.
    pub fn changed_at(&self, group: &Group) -> Option<u64> {
        let changed = self.inner.lock().unwrap().changed[slot(group)];
        (changed > 0).then_some(changed)
    }

    /// The groups a committed change touches.
    pub fn groups_of(change: &Change) -> Vec<Group> {
        match change {
            Change::Board { board } => {
                vec![
                    Group::Boards,
                    Group::Board(board.clone()),
                    Group::Listing(board.clone()),
                    Group::Recent,
                ]
            }
            Change::ThreadArchived { board, thread } => {
                vec![
                    Group::Listing(board.clone()),
                    Group::Thread(board.clone(), *thread),
                ]
            }
            Change::ThreadCreated { board, thread }
            | Change::Reply { board, thread, .. }
            | Change::PostEdited { board, thread }
            | Change::PostDeleted { board, thread }
            | Change::ThreadDeleted { board, thread } => {
                vec![
                    Group::Listing(board.clone()),
                    Group::Thread(board.clone(), *thread),
                    Group::Recent,
                ]
            }
            Change::FileUnreferenced { .. } | Change::Live(_) | Change::OutboxQueued => Vec::new(),
        }
    }

    /// The commit listener's part: invalidate everything the changes touched.
    pub fn apply(&self, changes: &[Change]) {
        let groups: Vec<Group> = changes.iter().flat_map(Cache::groups_of).collect();
        self.invalidate(&groups);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(s: &str) -> Arc<Cached> {
        Arc::new(Cached::new(s.as_bytes().to_vec()))
    }

    #[test]
    fn a_write_to_one_thread_keeps_the_others() {
        let cache = Cache::new(1 << 20);
        let e = cache.epoch();
        cache.insert(
            Key::Thread("b".into(), 1),
            Group::Thread("b".into(), 1),
            e,
            body("one"),
        );
        cache.insert(
            Key::Thread("b".into(), 2),
            Group::Thread("b".into(), 2),
            e,
            body("two"),
        );
        cache.insert(
            Key::Catalog("b".into()),
            Group::Listing("b".into()),
            e,
            body("cat"),
        );
        cache.apply(&[Change::Reply {
            board: "b".into(),
            thread: 2,
            no: 3,
            bumped: true,
        }]);
        assert!(cache.get(&Key::Thread("b".into(), 1)).is_some());
        assert!(cache.get(&Key::Thread("b".into(), 2)).is_none());
        assert!(cache.get(&Key::Catalog("b".into())).is_none());
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = Cache::new(1 << 20);
        let before = cache.epoch();
        // A commit lands while the reader is still building its response.
        cache.apply(&[Change::Reply {
            board: "b".into(),
            thread: 1,
            no: 2,
            bumped: true,
        }]);
        cache.insert(
            Key::Thread("b".into(), 1),
            Group::Thread("b".into(), 1),
            before,
            body("old"),
        );
        assert!(cache.get(&Key::Thread("b".into(), 1)).is_none());
        let after = cache.epoch();
        cache.insert(
            Key::Thread("b".into(), 1),
            Group::Thread("b".into(), 1),
            after,
            body("new"),
        );
        assert_eq!(
            cache.get(&Key::Thread("b".into(), 1)).unwrap().body,
            &b"new"[..]
        );
    }

    #[test]
    fn a_commit_notes_when_it_changed_each_group() {
        let cache = Cache::new(1 << 20);
        let (thread, other) = (Group::Thread("b".into(), 1), Group::Thread("b".into(), 2));
        assert_eq!(cache.changed_at(&thread), None);
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        cache.apply(&[Change::Reply {
            board: "b".into(),
            thread: 1,
            no: 3,
            bumped: true,
        }]);
        let changed = cache.changed_at(&thread).expect("noted");
        assert!(changed >= before && changed <= before + 60, "{changed}");
        assert_eq!(cache.changed_at(&Group::Listing("b".into())), Some(changed));
        if slot(&other) != slot(&thread) {
            assert_eq!(cache.changed_at(&other), None);
        }
    }

    #[test]
    fn the_budget_bounds_memory() {
        let cache = Cache::new(300);
        for i in 0..10 {
            let e = cache.epoch();
            cache.insert(
                Key::Post("b".into(), i),
                Group::Thread("b".into(), i),
                e,
                body(&"x".repeat(100)),
            );
        }
        assert!(cache.inner.lock().unwrap().bytes <= 300);
    }

    #[test]
    fn etag_is_strong_and_follows_the_body() {
        assert_eq!(
            Cached::new(b"a".to_vec()).etag,
            Cached::new(b"a".to_vec()).etag
        );
        assert_ne!(
            Cached::new(b"a".to_vec()).etag,
            Cached::new(b"b".to_vec()).etag
        );
        assert!(Cached::new(b"a".to_vec()).etag.starts_with('"'));
    }
}
