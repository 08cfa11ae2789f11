//! Owns the redb database: every table, its key layout, the schema version, and all reads.
//!
//! Writes go through [`writer`], the single writer task. No redb type leaves this module, so a
//! second backend can replace it without touching the handlers.
//!
//! # Tables
//!
//! | table | key | value | why |
//! |---|---|---|---|
//! | `meta` | `&str` name | `u64` | `schema_version` |
//! | `boards` | slug | JSON [`Board`] | board settings |
//! | `board_counters` | slug | `(last_no, live_threads)` | the last post number given out on the board, and how many threads are live |
//! | `posts` | `(slug, no)` | JSON [`Post`] | every post, OPs and replies, by number |
//! | `thread_posts` | `(slug, thread, no)` | `()` | a thread's posts in order; a range scan from `(slug, thread, after + 1)` serves `?after=` |
//! | `threads` | `(slug, thread)` | JSON [`ThreadMeta`] | thread state: flags, counts, bump time |
//! | `bump_order` | `(slug, bump_key)` | thread no | live threads only; iterated backwards it is the catalog order, forwards it finds the thread to archive |
//! | `archive` | `(slug, archived_at, thread)` | `()` | archived threads, oldest first, for retention |
//!
//! A new post changes `board_counters`, `posts`, `thread_posts` and `threads` together, and
//! `bump_order` when it bumps; archiving a thread moves it from `bump_order` to `archive` and
//! updates its `threads` row. Integers in keys are redb's native `u64`, compared numerically, so
//! ranges come out in number order.

pub mod writer;

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{ApiError, ApiResult};
use crate::model::{Board, Post, ThreadMeta};

pub use writer::{Change, Write, Writer, Written};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const BOARDS: TableDefinition<&str, &[u8]> = TableDefinition::new("boards");
const BOARD_COUNTERS: TableDefinition<&str, (u64, u64)> = TableDefinition::new("board_counters");
const POSTS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("posts");
const THREAD_POSTS: TableDefinition<(&str, u64, u64), ()> = TableDefinition::new("thread_posts");
const THREADS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("threads");
const BUMP_ORDER: TableDefinition<(&str, u64), u64> = TableDefinition::new("bump_order");
const ARCHIVE: TableDefinition<(&str, u64, u64), ()> = TableDefinition::new("archive");

/// The schema this build writes. Bump it with a new rung in [`MIGRATIONS`].
pub const SCHEMA_VERSION: u64 = 1;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "wani.redb";

type Migration = fn(&redb::WriteTransaction) -> Result<(), redb::Error>;

/// The ladder: `MIGRATIONS[i]` takes a database from version `i + 1` to `i + 2`. Empty while
/// version 1 is the only schema there has been.
const MIGRATIONS: &[Migration] = &[];

/// Shared handle to the database. Cloning is cheap.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
}

/// Why the database could not be opened; printed to the admin at start.
#[derive(Debug)]
pub struct OpenError(pub String);

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Store {
    /// Opens (or creates) the database in `data_dir`, creates every table, and checks the
    /// schema version: an older schema is migrated, a newer one refused.
    pub fn open(data_dir: &Path) -> Result<Store, OpenError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            OpenError(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(DB_FILE);
        let db = Database::create(&path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => OpenError(format!(
                "{} is in use by another process: is wani already running on this data directory?",
                path.display()
            )),
            e => OpenError(format!("cannot open database {}: {e}", path.display())),
        })?;
        prepare_schema(&db).map_err(|e| OpenError(format!("database {}: {e}", path.display())))?;
        Ok(Store { db: Arc::new(db) })
    }

    /// A consistent snapshot for reading; never waits for the writer. Blocking: call it from
    /// `spawn_blocking`.
    pub fn read(&self) -> ApiResult<Reader> {
        let txn = self.db.begin_read().map_err(storage_error)?;
        Ok(Reader { txn })
    }
}

fn prepare_schema(db: &Database) -> Result<(), String> {
    let txn = db.begin_write().map_err(|e| e.to_string())?;
    let stored = {
        let meta = txn.open_table(META).map_err(|e| e.to_string())?;
        let stored = meta.get("schema_version").map_err(|e| e.to_string())?;
        stored.map(|v| v.value())
    };
    match stored {
        Some(v) if v > SCHEMA_VERSION => {
            return Err(format!(
                "its schema version is {v}, newer than this wani understands ({SCHEMA_VERSION}); \
                 run a newer wani or restore a backup made by this one"
            ));
        }
        Some(v) => {
            for (i, migrate) in MIGRATIONS.iter().enumerate().skip(v as usize - 1) {
                migrate(&txn).map_err(|e| format!("migration to version {} failed: {e}", i + 2))?;
            }
        }
        None => {}
    }
    {
        // Opening a table in a write transaction creates it, so readers never meet a missing one.
        (|| -> Result<(), redb::Error> {
            txn.open_table(BOARDS)?;
            txn.open_table(BOARD_COUNTERS)?;
            txn.open_table(POSTS)?;
            txn.open_table(THREAD_POSTS)?;
            txn.open_table(THREADS)?;
            txn.open_table(BUMP_ORDER)?;
            txn.open_table(ARCHIVE)?;
            txn.open_table(META)?
                .insert("schema_version", SCHEMA_VERSION)?;
            Ok(())
        })()
        .map_err(|e| e.to_string())?;
    }
    txn.commit().map_err(|e| e.to_string())
}

/// A storage failure is the server's fault: logged through `notify`, a 500 to the client.
fn storage_error(e: impl Into<redb::Error>) -> ApiError {
    ApiError::internal("storage_error", e.into())
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::internal("storage_corrupt", e))
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("domain types always serialize")
}

/// One read transaction: every read through it sees the same committed state.
pub struct Reader {
    txn: ReadTransaction,
}

impl Reader {
    pub fn boards(&self) -> ApiResult<Vec<Board>> {
        let table = self.txn.open_table(BOARDS).map_err(storage_error)?;
        let mut boards = Vec::new();
        for row in table.iter().map_err(storage_error)? {
            let (_, value) = row.map_err(storage_error)?;
            boards.push(decode(value.value())?);
        }
        Ok(boards)
    }

    pub fn board(&self, slug: &str) -> ApiResult<Option<Board>> {
        let table = self.txn.open_table(BOARDS).map_err(storage_error)?;
        let row = table.get(slug).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    pub fn post(&self, board: &str, no: u64) -> ApiResult<Option<Post>> {
        let table = self.txn.open_table(POSTS).map_err(storage_error)?;
        let row = table.get((board, no)).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    pub fn thread_meta(&self, board: &str, no: u64) -> ApiResult<Option<ThreadMeta>> {
        let table = self.txn.open_table(THREADS).map_err(storage_error)?;
        let row = table.get((board, no)).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    /// The posts of a thread with numbers above `after`, oldest first.
    pub fn thread_posts(&self, board: &str, thread: u64, after: u64) -> ApiResult<Vec<Post>> {
        let index = self.txn.open_table(THREAD_POSTS).map_err(storage_error)?;
        let start = after.saturating_add(1);
        let range = index.range((board, thread, start)..=(board, thread, u64::MAX));
        self.posts_of(range.map_err(storage_error)?)
    }

    /// The last `n` posts of a thread, oldest first (the OP included if it is among them).
    pub fn last_posts(&self, board: &str, thread: u64, n: usize) -> ApiResult<Vec<Post>> {
        let index = self.txn.open_table(THREAD_POSTS).map_err(storage_error)?;
        let range = index.range((board, thread, 0)..=(board, thread, u64::MAX));
        let mut posts = self.posts_of(range.map_err(storage_error)?.rev().take(n))?;
        posts.reverse();
        Ok(posts)
    }

    fn posts_of<'a>(
        &self,
        keys: impl Iterator<
            Item = Result<
                (
                    redb::AccessGuard<'a, (&'static str, u64, u64)>,
                    redb::AccessGuard<'a, ()>,
                ),
                redb::StorageError,
            >,
        >,
    ) -> ApiResult<Vec<Post>> {
        let posts = self.txn.open_table(POSTS).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in keys {
            let (key, _) = row.map_err(storage_error)?;
            let (board, _, no) = key.value();
            let post = posts.get((board, no)).map_err(storage_error)?;
            let post = post.ok_or_else(|| {
                ApiError::internal(
                    "storage_corrupt",
                    format!("thread_posts lists missing post /{board}/{no}"),
                )
            })?;
            out.push(decode(post.value())?);
        }
        Ok(out)
    }

    /// Live threads, most recently bumped first.
    pub fn live_threads(&self, board: &str) -> ApiResult<Vec<ThreadMeta>> {
        let order = self.txn.open_table(BUMP_ORDER).map_err(storage_error)?;
        let threads = self.txn.open_table(THREADS).map_err(storage_error)?;
        let mut out = Vec::new();
        let range = order
            .range((board, 0)..=(board, u64::MAX))
            .map_err(storage_error)?;
        for row in range.rev() {
            let (_, thread) = row.map_err(storage_error)?;
            let no = thread.value();
            let meta = threads
                .get((board, no))
                .map_err(storage_error)?
                .ok_or_else(|| {
                    ApiError::internal(
                        "storage_corrupt",
                        format!("bump_order lists missing thread /{board}/{no}"),
                    )
                })?;
            out.push(decode(meta.value())?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        {
            let db = Database::create(dir.path().join(DB_FILE)).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", SCHEMA_VERSION + 1)
                .unwrap();
            txn.commit().unwrap();
        }
        let err = Store::open(dir.path())
            .err()
            .expect("a newer schema must be refused")
            .0;
        assert!(err.contains("newer than this wani understands"), "{err}");
    }

    #[test]
    fn reopening_keeps_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let store = Store::open(dir.path()).unwrap();
        let txn = store.db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        assert_eq!(
            meta.get("schema_version").unwrap().unwrap().value(),
            SCHEMA_VERSION
        );
    }
}
