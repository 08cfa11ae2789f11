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

    /// A board's settings changing, or the board going, drops every response of that board
    /// (threads and 4chan documents included) and the board lists, and nothing of other boards.
    #[test]
    fn a_board_change_drops_everything_of_that_board() {
        let cache = Cache::new(1 << 20);
        let entries = [
            (Key::Thread("b".into(), 1), Group::Thread("b".into(), 1)),
            (Key::FourThread("b".into(), 1), Group::Thread("b".into(), 1)),
            (Key::Post("b".into(), 2), Group::Thread("b".into(), 1)),
            (Key::Catalog("b".into()), Group::Listing("b".into())),
            (Key::Board("b".into()), Group::Board("b".into())),
            (Key::Boards, Group::Boards),
            (Key::FourBoards, Group::Boards),
            (Key::Thread("c".into(), 1), Group::Thread("c".into(), 1)),
        ];
        let mut e = 0;
        for change in [
            Change::Board { board: "b".into() },
            Change::BoardDeleted { board: "b".into() },
        ] {
            e = cache.epoch();
            for (key, group) in &entries {
                assert!(cache.insert(key.clone(), group.clone(), e, body("x")));
            }
            cache.apply(&[change]);
            for (key, _) in &entries[..7] {
                assert!(cache.get(key).is_none(), "{key:?}");
            }
            assert!(cache.get(&Key::Thread("c".into(), 1)).is_some());
        }
        // A response read before the change is not kept either.
        assert!(!cache.insert(
            Key::Thread("b".into(), 1),
            Group::Thread("b".into(), 1),
            e,
            body("stale"),
        ));
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
    fn compressed_copies_are_made_once_and_count_against_the_budget() {
        let json = br#"{"no":1,"body":"the same words again and again"},"#.repeat(64);
        let cache = Cache::new(1 << 20);
        let key = Key::Thread("b".into(), 1);
        let value = Arc::new(Cached::new(json.clone()));
        let e = cache.epoch();
        cache.insert(key.clone(), Group::Thread("b".into(), 1), e, value.clone());
        let identity = cache.inner.lock().unwrap().bytes;
        assert_eq!(identity, json.len() + 64);
        assert!(value.claim());
        assert!(!value.claim(), "claimed once");
        cache.compress(&key, &value);
        let codings: Vec<Coding> = value.variants().iter().map(|v| v.coding).collect();
        assert_eq!(codings, [Coding::Zstd, Coding::Gzip]);
        let copies: usize = value.variants().iter().map(|v| v.body.len()).sum();
        assert_eq!(cache.inner.lock().unwrap().bytes, identity + copies);
        let etags: std::collections::HashSet<&str> = value
            .variants()
            .iter()
            .map(|v| v.etag.as_str())
            .chain([value.etag.as_str()])
            .collect();
        assert_eq!(etags.len(), 3, "one ETag per coding");
        // Replacing the entry gives back everything it counted.
        cache.insert(key.clone(), Group::Thread("b".into(), 1), e, body("x"));
        assert_eq!(cache.inner.lock().unwrap().bytes, 1 + 64);
        // A value no longer in the cache is not compressed; a short one never is.
        let gone = Arc::new(Cached::new(json));
        cache.compress(&key, &gone);
        assert!(gone.variants().is_empty());
        let short = body("short");
        assert!(!short.claim());
        assert_eq!(short.compress(Effort::Cached), 0);
    }

    #[test]
    fn compressed_copies_never_push_past_the_budget() {
        let json = br#"{"no":1,"body":"the same words again and again"},"#.repeat(64);
        let cache = Cache::new(json.len() + 100);
        let key = Key::Thread("b".into(), 1);
        let value = Arc::new(Cached::new(json));
        cache.insert(key.clone(), Group::Thread("b".into(), 1), 0, value.clone());
        cache.compress(&key, &value);
        assert!(cache.inner.lock().unwrap().bytes <= cache.budget);
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

    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Starts `readers` concurrent `get_or_build` calls for one key whose builds wait at a gate
    /// until every other reader is waiting; returns what each got and how many builds ran.
    async fn crowd(
        cache: &Arc<Cache>,
        readers: usize,
        result: fn(usize) -> ApiResult<(Group, Cached)>,
        before_release: impl FnOnce(),
    ) -> (Vec<ApiResult<Arc<Cached>>>, usize) {
        let key = Key::Thread("b".into(), 1);
        let builds = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..readers {
            let (cache, builds, gate, key) =
                (cache.clone(), builds.clone(), gate.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_build(key, || async move {
                        let n = builds.fetch_add(1, Ordering::SeqCst);
                        // Only the first build waits; a retry after it completes at once.
                        if n == 0 {
                            gate.notified().await;
                        }
                        result(n)
                    })
                    .await
            }));
        }
        while cache.waiting(&key) < readers - 1 {
            tokio::task::yield_now().await;
        }
        before_release();
        gate.notify_one();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        (results, builds.load(Ordering::SeqCst))
    }

    fn thread_body(n: usize) -> ApiResult<(Group, Cached)> {
        Ok((
            Group::Thread("b".into(), 1),
            Cached::new(format!("build {n}").into_bytes()),
        ))
    }

    #[tokio::test]
    async fn concurrent_misses_are_built_once() {
        let cache = Arc::new(Cache::new(1 << 20));
        let (results, builds) = crowd(&cache, 16, thread_body, || {}).await;
        assert_eq!(builds, 1);
        for result in results {
            assert_eq!(result.unwrap().body, &b"build 0"[..]);
        }
        // Later readers hit the cache.
        let again = cache
            .get_or_build(Key::Thread("b".into(), 1), || async { thread_body(9) })
            .await
            .unwrap();
        assert_eq!(again.body, &b"build 0"[..]);
    }

    #[tokio::test]
    async fn a_failed_build_is_retried_by_the_waiters_not_shared() {
        let cache = Arc::new(Cache::new(1 << 20));
        let fails_first = |n: usize| {
            if n == 0 {
                Err(crate::error::ApiError::new(
                    crate::error::ErrorKind::ThreadNotFound,
                    "gone",
                ))
            } else {
                thread_body(n)
            }
        };
        let (results, builds) = crowd(&cache, 4, fails_first, || {}).await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        assert_eq!(failed, 1, "only the builder sees its error");
        // One waiter rebuilt; the others shared that second build.
        assert_eq!(builds, 2);
        for result in results.into_iter().flatten() {
            assert_eq!(result.body, &b"build 1"[..]);
        }
    }

    #[tokio::test]
    async fn waiters_never_take_a_build_that_raced_a_write() {
        let cache = Arc::new(Cache::new(1 << 20));
        let writer = cache.clone();
        let (results, builds) = crowd(&cache, 4, thread_body, move || {
            // A reply commits while the first build is still reading.
            writer.apply(&[Change::Reply {
                board: "b".into(),
                thread: 1,
                no: 2,
                bumped: true,
            }]);
        })
        .await;
        assert_eq!(builds, 2, "the waiters rebuilt once, together");
        let bodies: Vec<_> = results
            .into_iter()
            .map(|r| r.unwrap().body.clone())
            .collect();
        assert_eq!(bodies.iter().filter(|b| **b == b"build 0"[..]).count(), 1);
        assert_eq!(bodies.iter().filter(|b| **b == b"build 1"[..]).count(), 3);
    }

    #[test]
    fn posts_after_are_slices_of_the_whole() {
        let body = br#"{"thread":{"no":1,"posts":[{"no":1},{"no":5},{"no":9}]}}"#.to_vec();
        let text = std::str::from_utf8(&body).unwrap();
        let list_start = text.find('[').unwrap() + 1;
        let starts = [1u64, 5, 9]
            .iter()
            .map(|no| (*no, text.find(&format!("{{\"no\":{no}}}")).unwrap()))
            .collect();
        let list_end = text.rfind(']').unwrap();
        let cached = Cached::with_posts(
            body.clone(),
            PostIndex {
                list_start,
                starts,
                list_end,
            },
        );
        let cases = [
            (
                0,
                r#"{"thread":{"no":1,"posts":[{"no":1},{"no":5},{"no":9}]}}"#,
            ),
            (1, r#"{"thread":{"no":1,"posts":[{"no":5},{"no":9}]}}"#),
            (4, r#"{"thread":{"no":1,"posts":[{"no":5},{"no":9}]}}"#),
            (5, r#"{"thread":{"no":1,"posts":[{"no":9}]}}"#),
            (9, r#"{"thread":{"no":1,"posts":[]}}"#),
            (u64::MAX, r#"{"thread":{"no":1,"posts":[]}}"#),
        ];
        let mut etags = std::collections::HashSet::new();
        for (after, expected) in cases {
            let ([head, tail], etag) = cached.posts_after(after).unwrap();
            let joined = [&head[..], &tail[..]].concat();
            assert_eq!(
                std::str::from_utf8(&joined).unwrap(),
                expected,
                "after={after}"
            );
            serde_json::from_slice::<serde_json::Value>(&joined).unwrap();
            etags.insert((expected, etag));
        }
        // Equal bodies share an ETag, different ones do not.
        let distinct: std::collections::HashSet<_> = etags.iter().map(|(_, e)| e).collect();
        assert_eq!(distinct.len(), 4);
        assert!(Cached::new(body).posts_after(0).is_none());
    }
}
