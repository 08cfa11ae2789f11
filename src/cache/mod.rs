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
//!
//! Misses are built once: the first reader of a missing key builds it while later readers of
//! the same key wait for its result (single flight), so a crowd arriving at a cold thread costs
//! one build and one copy, not one each.
//!
//! Compressed copies (gzip, zstd) of a body of [`encoding::MIN_BYTES`] or more are made once,
//! on a blocking thread after the entry is in, so the readers that waited for the build never
//! wait for compression too: until they are ready, readers get the identity bytes. They count
//! against the budget with the body.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use bytes::Bytes;
use hyper::HeaderMap;
use tokio::sync::watch;

use crate::error::ApiResult;
use crate::http::encoding::{self, Coding, Effort};
use crate::storage::Change;

pub use boards::BoardCache;

mod boards;

/// A cached response: its body and the strong ETag computed from it, and its compressed
/// copies once they are made.
#[derive(Debug)]
pub struct Cached {
    /// Shared, so answering a hit hands hyper a reference count, not a copy of the body.
    pub body: Bytes,
    pub etag: String,
    /// For a body that ends in a list of posts: where each starts, so the posts after a number
    /// are served as slices of this body.
    pub posts: Option<PostIndex>,
    /// The compressed copies, set once by [`Cached::compress`]; empty for a short body.
    variants: OnceLock<Vec<Variant>>,
    /// Set by whoever takes the job of compressing, so it is done once.
    claimed: AtomicBool,
}

/// The body in a content coding, with its own strong ETag (RFC 9110 §8.8.3: a different
/// representation, so a different tag).
#[derive(Debug)]
pub struct Variant {
    pub coding: Coding,
    pub body: Bytes,
    pub etag: String,
}

/// Where the posts of a body of the form `{...,"posts":[p1,p2,...]}}` sit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostIndex {
    /// Just after the list's `[`.
    pub list_start: usize,
    /// The number and start offset of each post, in increasing number order.
    pub starts: Vec<(u64, usize)>,
    /// The list's closing `]`.
    pub list_end: usize,
}

fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

impl Cached {
    pub fn new(body: Vec<u8>) -> Cached {
        Cached {
            etag: etag_of(&body),
            body: Bytes::from(body),
            posts: None,
            variants: OnceLock::new(),
            claimed: AtomicBool::new(false),
        }
    }

    /// A body made once per process (the OpenAPI document), compressed at once.
    pub fn compressed(body: Vec<u8>, effort: Effort) -> Cached {
        let cached = Cached::new(body);
        cached.compress(effort);
        cached
    }

    /// Whether the body is long enough to be compressed: its responses vary by
    /// `Accept-Encoding`, even while the copies are not made yet.
    pub fn varies(&self) -> bool {
        self.body.len() >= encoding::MIN_BYTES
    }

    /// True once, for the caller that is to compress this body; false for a short body.
    pub fn claim(&self) -> bool {
        self.varies() && !self.claimed.swap(true, Ordering::AcqRel)
    }

    /// Makes the compressed copies (a copy no smaller than the body is not kept) and returns
    /// their bytes. Does nothing for a short body or one already compressed.
    pub fn compress(&self, effort: Effort) -> usize {
        if !self.varies() || self.variants.get().is_some() {
            return 0;
        }
        let variants = encoding::COMPRESSED
            .iter()
            .filter_map(|&coding| {
                let body = coding.encode(&self.body, effort);
                (body.len() < self.body.len()).then(|| Variant {
                    coding,
                    etag: etag_of(&body),
                    body: Bytes::from(body),
                })
            })
            .collect::<Vec<_>>();
        let bytes = variants.iter().map(|v| v.body.len()).sum();
        match self.variants.set(variants) {
            Ok(()) => bytes,
            Err(_) => 0,
        }
    }

    /// The compressed copies made so far (none until [`Cached::compress`] has run).
    pub fn variants(&self) -> &[Variant] {
        self.variants.get().map_or(&[], Vec::as_slice)
    }

    /// The copy to send to a request with these headers, or `None` for the identity bytes.
    pub fn pick(&self, request_headers: &HeaderMap) -> Option<&Variant> {
        let variants = self.variants();
        if variants.is_empty() {
            return None;
        }
        let chosen = encoding::choose(request_headers, |c| variants.iter().any(|v| v.coding == c));
        variants.iter().find(|v| v.coding == chosen)
    }

    /// What the entry costs the budget: the body, its copies and some bookkeeping.
    fn size(&self) -> usize {
        self.body.len() + self.variants().iter().map(|v| v.body.len()).sum::<usize>() + 64
    }

    pub fn with_posts(body: Vec<u8>, posts: PostIndex) -> Cached {
        Cached {
            posts: Some(posts),
            ..Cached::new(body)
        }
    }

    /// The body with only the posts numbered above `after`, as two slices of this body (no
    /// copy), and its strong ETag; `None` when the body has no post index.
    pub fn posts_after(&self, after: u64) -> Option<([Bytes; 2], String)> {
        let index = self.posts.as_ref()?;
        let first = index.starts.partition_point(|(no, _)| *no <= after);
        let from = index
            .starts
            .get(first)
            .map_or(index.list_end, |(_, at)| *at);
        // The slice is fixed by the whole body and where it is cut: name both.
        let etag = etag_of(format!("{}{from}", self.etag).as_bytes());
        let parts = [self.body.slice(..index.list_start), self.body.slice(from..)];
        Some((parts, etag))
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

impl Key {
    /// The board a response belongs to: invalidating the board's group (its settings changed,
    /// or it was deleted) drops every response of the board, whatever group it is in.
    fn board(&self) -> Option<&str> {
        match self {
            Key::Boards | Key::Recent(_) | Key::FourBoards => None,
            Key::Board(b)
            | Key::Thread(b, _)
            | Key::Post(b, _)
            | Key::Catalog(b)
            | Key::Index(b, _)
            | Key::Archive(b)
            | Key::FourThreadList(b)
            | Key::FourCatalog(b)
            | Key::FourArchive(b)
            | Key::FourIndex(b, _)
            | Key::FourThread(b, _) => Some(b),
        }
    }
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
    /// What it counts for in `Inner::bytes`.
    size: usize,
}

/// A build in progress: its result, once known, goes to the readers waiting for it. `None`
/// when the result may not be served to them (an error, or a write raced the build).
type Flight = Arc<watch::Sender<Option<Arc<Cached>>>>;

struct Inner {
    entries: HashMap<Key, Entry>,
    flights: HashMap<Key, Flight>,
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

enum Role {
    Build(Flight, u64),
    Wait(watch::Receiver<Option<Arc<Cached>>>),
}

/// Ends a flight when its builder finishes or is dropped: later readers look up or build anew,
/// and waiters that got no value try again.
struct Landing<'a> {
    cache: &'a Cache,
    key: &'a Key,
    flight: Flight,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut inner = self.cache.inner.lock().unwrap();
        if inner
            .flights
            .get(self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            inner.flights.remove(self.key);
        }
    }
}

impl Inner {
    fn get(&self, key: &Key) -> Option<Arc<Cached>> {
        let entry = self.entries.get(key)?;
        (self.stale_after(key, &entry.group) <= entry.epoch).then(|| entry.value.clone())
    }

    /// The epoch of the last invalidation that concerns `key`: its group's, or its board's.
    fn stale_after(&self, key: &Key, group: &Group) -> u64 {
        let board = key
            .board()
            .map_or(0, |b| self.stamps[slot(&Group::Board(b.to_owned()))]);
        self.stamps[slot(group)].max(board)
    }
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
                flights: HashMap::new(),
                stamps: Box::new([0; STAMPS]),
                changed: Box::new([0; STAMPS]),
                epoch: 0,
                bytes: 0,
            }),
            budget,
        }
    }

    pub fn get(&self, key: &Key) -> Option<Arc<Cached>> {
        self.inner.lock().unwrap().get(key)
    }

    /// The cached value of `key`, or the one `build` makes. Concurrent callers for one key share
    /// one build: the first builds, the others wait for it. `build` reads after the epoch is
    /// noted, as [`Cache::insert`] requires. A waiter whose build failed or raced a write tries
    /// again (and may build itself), so nobody is served stale data or someone else's error.
    pub async fn get_or_build<F, Fut>(&self, key: Key, build: F) -> ApiResult<Arc<Cached>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<(Group, Cached)>>,
    {
        let mut build = Some(build);
        loop {
            let role = {
                let mut inner = self.inner.lock().unwrap();
                if let Some(hit) = inner.get(&key) {
                    return Ok(hit);
                }
                if let Some(flight) = inner.flights.get(&key) {
                    Role::Wait(flight.subscribe())
                } else {
                    let flight: Flight = Arc::new(watch::channel(None).0);
                    inner.flights.insert(key.clone(), flight.clone());
                    Role::Build(flight, inner.epoch)
                }
            };
            match role {
                Role::Build(flight, epoch) => {
                    let landing = Landing {
                        cache: self,
                        key: &key,
                        flight,
                    };
                    let build = build.take().expect("a caller builds at most once");
                    let (group, value) = build().await?;
                    let value = Arc::new(value);
                    if self.insert(key.clone(), group, epoch, value.clone()) {
                        landing.flight.send_replace(Some(value.clone()));
                    }
                    return Ok(value);
                }
                Role::Wait(mut waiting) => {
                    // An error means the builder gave up without a result: try again.
                    if waiting.changed().await.is_ok() {
                        if let Some(value) = waiting.borrow().clone() {
                            return Ok(value);
                        }
                    }
                }
            }
        }
    }

    /// Readers waiting for a build of `key` (for tests).
    #[cfg(test)]
    fn waiting(&self, key: &Key) -> usize {
        let inner = self.inner.lock().unwrap();
        inner.flights.get(key).map_or(0, |f| f.receiver_count())
    }

    /// The epoch to note before reading the data a response is built from.
    pub fn epoch(&self) -> u64 {
        self.inner.lock().unwrap().epoch
    }

    /// Keeps `value` unless its group was invalidated after `epoch` was noted. Returns whether
    /// the value is current (kept, or current but over the budget).
    pub fn insert(&self, key: Key, group: Group, epoch: u64, value: Arc<Cached>) -> bool {
        let size = value.size();
        let mut inner = self.inner.lock().unwrap();
        if inner.stale_after(&key, &group) > epoch {
            return false;
        }
        if size > self.budget {
            return true;
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
                size,
            },
        ) {
            inner.bytes -= old.size;
        }
        true
    }

    /// Makes the compressed copies of `value` if it is still the entry of `key`, and counts
    /// them against the budget. Blocking: it compresses on the calling thread.
    pub fn compress(&self, key: &Key, value: &Arc<Cached>) {
        let held = |inner: &Inner| {
            inner
                .entries
                .get(key)
                .is_some_and(|e| Arc::ptr_eq(&e.value, value))
        };
        if !held(&self.inner.lock().unwrap()) {
            return;
        }
        let added = value.compress(Effort::Cached);
        let mut inner = self.inner.lock().unwrap();
        if added == 0 || !held(&inner) {
            return;
        }
        if inner.bytes + added > self.budget {
            inner.entries.clear();
            inner.bytes = 0;
            return;
        }
        inner.bytes += added;
        if let Some(entry) = inner.entries.get_mut(key) {
            entry.size += added;
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
            Change::Board { board } | Change::BoardDeleted { board } => {
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
            Change::FileUnreferenced { .. }
            | Change::Live(_)
            | Change::OutboxQueued
            | Change::BanSaved(_)
            | Change::BanRemoved(_)
            | Change::ReportCounts { .. } => Vec::new(),
        }
    }

    /// The commit listener's part: invalidate everything the changes touched.
    pub fn apply(&self, changes: &[Change]) {
        let groups: Vec<Group> = changes.iter().flat_map(Cache::groups_of).collect();
        self.invalidate(&groups);
    }
}

#[cfg(test)]
mod tests;
