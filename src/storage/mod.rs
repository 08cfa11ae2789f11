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
//! | `files` | hex sha256 | JSON [`StoredFile`] | each stored original and thumbnail once, with the count of posts carrying it |
//! | `passwords` | `(slug, no)` | 32-byte keyed hash | a post's deletion password, never served |
//! | `tombstones` | `(slug, no)` | thread no | deleted posts: numbers stay taken, links to them render dead; a thread is deleted when its OP's tombstone names itself |
//! | `events` | event id | JSON [`StoredEvent`] | the live-update log, in commit order (`meta.event_seq` is the last id); the newest [`EVENTS_KEPT`] are kept for clients that reconnect. A `thread` or `post` event is stored as a reference to its post, read when it is replayed, so the log holds no second copy of every post |
//! | `recent` | `seq` | `(slug, no)` | posts in posting order across boards (`meta.recent_seq` is the last `seq`); iterated backwards it is the recent-posts list; only the newest [`RECENT_KEPT`] rows are kept |
//! | `outbox` | job id | JSON [`crate::model::OutboxJob`] | S3 backup jobs in order (`meta.outbox_seq` is the last id), queued only while `meta.mirror` is 1; the S3 worker removes each once done |
//! | `quotes` | `(slug, no, target_slug, target_no)` | `()` | the live posts a post linked when it was written (at most its board's `max_quotes`): serving the post draws its link to each one deleted since dead ([`links`]), and its own deletion removes them. They stay while the post does, whatever happens to their targets |
//! | `backlinks` | `(target_slug, target_no, slug, no)` | `()` | the same rows the other way round: a range scan from `(target_slug, target_no)` lists the posts quoting a post, by board and number, so serving a post reads its backlinks without any post storing them. A deleted post's rows stay until the posts quoting it go (its number is never served or reused); its deletion reads them to find the threads to tell |
//! | `purge` | `(slug, thread)` | `()` | deleted threads whose posts are still being removed, a few hundred per transaction between other writes; resumed at start |
//! | `users` | normalized username | JSON [`crate::auth::Account`] | accounts: role, assigned boards, argon2id hash, disabled flag |
//! | `sessions` | SHA-256 of the session id (32 bytes) | `(username, expires_ms)` | live sessions; the id itself is only in the client's cookie, so a copy of the database opens no session |
//! | `session_expiry` | `(expires_ms, session key)` | `()` | the same sessions by expiry, oldest first: the sweeper removes a range from the start |
//! | `user_sessions` | `(username, session key)` | `()` | a user's sessions, to end them all (password change, disabling, deletion) |
//! | `reset_tokens` | SHA-256 of a password reset token (32 bytes) | `(username, expires_ms)` | reset tokens an admin issued or a recovery mail carried; the token itself is only shown once; a used one is removed, an expired one when presented or swept |
//! | `reset_expiry` | `(expires_ms, token key)` | `()` | the same tokens by expiry, oldest first, swept with the sessions. Filled from `reset_tokens` once at start when the database predates it (`meta.reset_expiry_indexed`) |
//! | `totp` | normalized username | JSON [`crate::auth::totp::TotpState`] | an account's second factor: secret, whether confirmed, the last step used (no replay), hashes of unused recovery codes |
//! | `board_purge` | slug | `()` | deleted boards whose threads, posts and files are still being removed, in chunks between other writes; resumed at start. A slug listed here cannot be created again until it is done |
//! | `seeded` | slug | `()` | boards the database has held: a `[[boards]]` table of the config creates its board only when its slug is not here, so the config is only the first seed and a board deleted through the API stays deleted |
//! | `mod_log` | id | JSON [`crate::model::LogEntry`] | the staff log, oldest first (`meta.mod_log_seq` is the last id): who created, changed or deleted what |
//! | `mod_log_boards` | `(slug, id)` | `()` | the same entries by board: a backwards range scan lists a board's latest changes (a thread move is listed under both boards) |
//! | `tokens` | SHA-256 of the API token's secret (32 bytes) | JSON [`crate::auth::token::StoredToken`] | API tokens: owner, name, scope, expiry, last use; the secret itself was shown once and is stored nowhere |
//! | `token_expiry` | `(expires_ms, token key)` | `()` | the same tokens by expiry, oldest first, swept with the sessions |
//! | `user_emails` | normalized email address | normalized username | the accounts that gave an address (at most one each, each address on one account): how `POST /auth/recover` finds an account by address; written with the `users` row whose `email` it mirrors |
//! | `user_tokens` | `(username, token id)` | token key | a user's tokens in id order, to list and revoke them by their public id and to end them all (disabling, deletion) |
//! | `posters` | `(slug, no)` | JSON [`crate::model::PosterRecord`] | who wrote each post, for staff: the client address (until erased) and its cloak (with the board it was made on, when a move after the erasure left it another board's), with the post's time |
//! | `poster_cloaks` | `(slug, cloak, no)` | `()` | the same posts by cloak: a range scan from `(slug, cloak)` lists every post of one poster on a board, in number order, whether or not the address was erased |
//! | `address_age` | `(at, slug, no)` | `()` | the `posters` rows that still hold an address, oldest first: the erasure removes a range from the start |
//! | `reports` | `(slug, no, cloak)` | JSON [`crate::model::Report`] | the open reports of a post, one per reporter cloak (at most [`REPORTS_KEPT`] per post) |
//! | `open_reports` | `(slug, no)` | `(count, latest_at)` | posts with open reports: how many reports (stored or not) and when the latest came |
//! | `report_order` | `(slug, latest_at, no)` | `()` | the same posts by their latest report: backwards it is a board's review queue |
//! | `report_counts` | slug | `u64` | posts with open reports per board, for a badge |
//! | `report_address_age` | `(at, slug, no, cloak)` | `()` | the `reports` rows that still hold an address, oldest first, erased with the posters' |
//! | `moved` | `(slug, no)` | `(new_slug, new_no, new_thread)` | posts of threads staff moved to another board: where each old number lives now, so old links, API paths and 4chan paths lead there |
//! | `file_posts` | `(sha256, slug, no)` | `()` | the posts carrying each stored file, written and removed with the post's `files` reference: what banning a file with its posts deletes, by board. Filled from `posts` once at start when the database predates it (`meta.file_posts_indexed`) |
//! | `file_bans` | `(board or "", sha256)` | JSON [`crate::filebans::FileBan`] | banned files, on one board or (empty first part) on every board, with the perceptual hash banned along |
//! | `filters` | id | JSON [`crate::filters::Filter`] | word filters, global and per board (`meta.filter_seq` is the last id) |
//! | `bans` | ban id | JSON [`crate::bans::Ban`] | active bans (`meta.ban_seq` is the last id), each with its appeal; a lifted, expired or pardoned ban is removed (the staff log keeps it). The in-memory [`crate::bans::BanIndex`] is derived from this table |
//! | `ban_expiry` | `(expires_at, id)` | `()` | bans that end, soonest first: the expiry worker removes a range from the start |
//! | `ban_boards` | `(slug, id)` | `()` | bans by board (`""` for global ones), for listing a board's bans newest first |
//! | `ban_appeals` | ban id | `()` | bans with an open appeal, for the staff's queue |
//! | `post_stats` | `(slug, hour)` | `(posts, threads)` | posts and new threads per board and hour since the epoch (UTC), for the dashboard: a board's month is one range read. Written with each post; a deleted post still counts (it was posted). Only the hours of the last 30 UTC days are kept: each post drops its board's older rows, the hourly archive pruning every board's, a board's deletion all of its own. `meta.files_stored` and `meta.file_bytes` count the `files` rows and their originals' sizes, changed with them |
//!
//! A new post changes `board_counters`, `posts`, `thread_posts` and `threads` together, and
//! `bump_order` when it bumps, and `files` when it carries files (a reference counted in the same
//! transaction as the post, so a file on disk is referenced exactly when a committed post says so), and
//! `outbox` when a file gains its first reference or loses its last; archiving a thread moves it from `bump_order` to `archive` and
//! updates its `threads` row. A post's `quotes` and `backlinks` rows are written and removed with
//! it, one pair per quote, so the two tables always mirror each other; deleting a post rewrites
//! no post quoting it (their stored `html` keeps the link, drawn dead when served: what a post
//! costs to delete is bounded by its own quotes). Deleting a thread removes its `threads` row, its place in
//! `bump_order` or `archive` and writes the OP's tombstone in one transaction, and lists it in
//! `purge`: from then on its posts read as deleted (a post counts only while its thread's row
//! exists), and the writer removes them in chunks. Deleting a board removes its `boards` row,
//! lists it in `board_purge` and logs it in `mod_log` and `mod_log_boards` in one transaction;
//! the writer then moves its threads to `purge`, removes their posts and its old tombstones, and
//! keeps its `board_counters` row, so a board created later under the same slug never reuses a
//! number that old links, the event log or `recent` may still name. A session is a row in
//! `sessions`, `session_expiry` and `user_sessions` at once, written and removed together;
//! renewing it moves its `session_expiry` row. A post's `posters` row, its `poster_cloaks` row and (while the
//! address is kept) its `address_age` row are written with the post and removed with it; erasing an
//! address rewrites the `posters` row without it and drops the `address_age` row. A report
//! writes its `reports` and `report_address_age` rows and sets the post's `open_reports`,
//! `report_order` and `report_counts` rows together; handling the reports, or removing the post,
//! removes them all together. An API token is a row in `tokens`,
//! `token_expiry` and `user_tokens` at once, likewise. Moving a thread rewrites, in one
//! transaction, its posts under new numbers (`posts`, `thread_posts`, `passwords`, `quotes`,
//! `backlinks`), its `threads` and `bump_order` rows, both boards' `board_counters`, and adds a
//! `moved` row per post; each post's poster rows (`posters`, `poster_cloaks`, `address_age`)
//! and open reports (`reports`, `report_address_age`, `open_reports`, `report_order`, both
//! boards' `report_counts`) move with it, cloaks made again for the new board while the address
//! is kept. Integers in keys are redb's native `u64`, compared numerically, so
//! ranges come out in number order. A ban is a row in `bans`, `ban_boards` and (unless permanent)
//! `ban_expiry` at once, and in `ban_appeals` while its appeal is open.

mod accounts;
mod backup;
mod bans;
mod events;
mod links;
#[cfg(test)]
mod measure;
mod migrate;
mod moderation;
mod modlog;
mod posters;
mod reports;
pub mod stats;
mod tokens;
pub mod writer;

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{ApiError, ApiResult};
use crate::model::{Board, LogEntry, Post, StoredFile, ThreadMeta};

pub use accounts::StoredSession;
pub use backup::Counts;
pub use events::StoredEvent;
use links::ReadLinks;
pub use moderation::FILE_BANS_PAGE;
pub use modlog::LogScan;
pub use posters::CloakPost;
pub use reports::QueuedPost;
pub use writer::{
    AccountWrite, Acting, BanWrite, Change, FileBanWrite, FilterWrite, Opening, ResetWrite,
    ThreadAction, ThreadState, TokenWrite, TotpWrite, Write, Writer, Written,
};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const BOARDS: TableDefinition<&str, &[u8]> = TableDefinition::new("boards");
const BOARD_COUNTERS: TableDefinition<&str, (u64, u64)> = TableDefinition::new("board_counters");
const POSTS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("posts");
const THREAD_POSTS: TableDefinition<(&str, u64, u64), ()> = TableDefinition::new("thread_posts");
const THREADS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("threads");
const BUMP_ORDER: TableDefinition<(&str, u64), u64> = TableDefinition::new("bump_order");
const ARCHIVE: TableDefinition<(&str, u64, u64), ()> = TableDefinition::new("archive");
const FILES: TableDefinition<&str, &[u8]> = TableDefinition::new("files");
const PASSWORDS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("passwords");
const TOMBSTONES: TableDefinition<(&str, u64), u64> = TableDefinition::new("tombstones");
const RECENT: TableDefinition<u64, (&str, u64)> = TableDefinition::new("recent");
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
const QUOTES: TableDefinition<(&str, u64, &str, u64), ()> = TableDefinition::new("quotes");
const BACKLINKS: TableDefinition<(&str, u64, &str, u64), ()> = TableDefinition::new("backlinks");
const PURGE: TableDefinition<(&str, u64), ()> = TableDefinition::new("purge");
const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
const SESSIONS: TableDefinition<&[u8], (&str, u64)> = TableDefinition::new("sessions");
const SESSION_EXPIRY: TableDefinition<(u64, &[u8]), ()> = TableDefinition::new("session_expiry");
const USER_SESSIONS: TableDefinition<(&str, &[u8]), ()> = TableDefinition::new("user_sessions");
const TOTP: TableDefinition<&str, &[u8]> = TableDefinition::new("totp");
const RESET_TOKENS: TableDefinition<&[u8], (&str, u64)> = TableDefinition::new("reset_tokens");
const RESET_EXPIRY: TableDefinition<(u64, &[u8]), ()> = TableDefinition::new("reset_expiry");
const BOARD_PURGE: TableDefinition<&str, ()> = TableDefinition::new("board_purge");
const SEEDED: TableDefinition<&str, ()> = TableDefinition::new("seeded");
const MOD_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("mod_log");
const MOD_LOG_BOARDS: TableDefinition<(&str, u64), ()> = TableDefinition::new("mod_log_boards");
const TOKENS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tokens");
const TOKEN_EXPIRY: TableDefinition<(u64, &[u8]), ()> = TableDefinition::new("token_expiry");
const USER_TOKENS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("user_tokens");
const FILE_POSTS: TableDefinition<(&str, &str, u64), ()> = TableDefinition::new("file_posts");
const FILE_BANS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("file_bans");
const FILTERS: TableDefinition<u64, &[u8]> = TableDefinition::new("filters");
const BANS: TableDefinition<u64, &[u8]> = TableDefinition::new("bans");
const BAN_EXPIRY: TableDefinition<(u64, u64), ()> = TableDefinition::new("ban_expiry");
const BAN_BOARDS: TableDefinition<(&str, u64), ()> = TableDefinition::new("ban_boards");
const BAN_APPEALS: TableDefinition<u64, ()> = TableDefinition::new("ban_appeals");
const POSTERS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("posters");
const POSTER_CLOAKS: TableDefinition<(&str, &str, u64), ()> = TableDefinition::new("poster_cloaks");
const ADDRESS_AGE: TableDefinition<(u64, &str, u64), ()> = TableDefinition::new("address_age");
const REPORTS: TableDefinition<(&str, u64, &str), &[u8]> = TableDefinition::new("reports");
const OPEN_REPORTS: TableDefinition<(&str, u64), (u64, u64)> = TableDefinition::new("open_reports");
const REPORT_ORDER: TableDefinition<(&str, u64, u64), ()> = TableDefinition::new("report_order");
const REPORT_COUNTS: TableDefinition<&str, u64> = TableDefinition::new("report_counts");
const REPORT_ADDRESS_AGE: TableDefinition<(u64, &str, u64, &str), ()> =
    TableDefinition::new("report_address_age");

/// Reports stored per post: later ones are counted without being kept, since the post is at
/// the top of its queue already and removing it must stay bounded.
pub const REPORTS_KEPT: u64 = 100;
const POST_STATS: TableDefinition<(&str, u64), (u64, u64)> = TableDefinition::new("post_stats");
const MOVED: TableDefinition<(&str, u64), (&str, u64, u64)> = TableDefinition::new("moved");
const USER_EMAILS: TableDefinition<&str, &str> = TableDefinition::new("user_emails");

/// Something done to every table alike: creating them, copying them into a snapshot, counting
/// their rows.
trait EachTable {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), redb::Error>;
}

/// The one list of every table.
fn each_table(visit: &mut impl EachTable) -> Result<(), redb::Error> {
    visit.table(META)?;
    visit.table(BOARDS)?;
    visit.table(BOARD_COUNTERS)?;
    visit.table(POSTS)?;
    visit.table(THREAD_POSTS)?;
    visit.table(THREADS)?;
    visit.table(BUMP_ORDER)?;
    visit.table(ARCHIVE)?;
    visit.table(FILES)?;
    visit.table(PASSWORDS)?;
    visit.table(TOMBSTONES)?;
    visit.table(RECENT)?;
    visit.table(EVENTS)?;
    visit.table(OUTBOX)?;
    visit.table(QUOTES)?;
    visit.table(BACKLINKS)?;
    visit.table(PURGE)?;
    visit.table(USERS)?;
    visit.table(SESSIONS)?;
    visit.table(SESSION_EXPIRY)?;
    visit.table(USER_SESSIONS)?;
    visit.table(TOTP)?;
    visit.table(RESET_TOKENS)?;
    visit.table(RESET_EXPIRY)?;
    visit.table(BOARD_PURGE)?;
    visit.table(SEEDED)?;
    visit.table(MOD_LOG)?;
    visit.table(MOD_LOG_BOARDS)?;
    visit.table(TOKENS)?;
    visit.table(TOKEN_EXPIRY)?;
    visit.table(USER_TOKENS)?;
    visit.table(FILE_POSTS)?;
    visit.table(FILE_BANS)?;
    visit.table(FILTERS)?;
    visit.table(BANS)?;
    visit.table(BAN_EXPIRY)?;
    visit.table(BAN_BOARDS)?;
    visit.table(BAN_APPEALS)?;
    visit.table(POSTERS)?;
    visit.table(POSTER_CLOAKS)?;
    visit.table(ADDRESS_AGE)?;
    visit.table(REPORTS)?;
    visit.table(OPEN_REPORTS)?;
    visit.table(REPORT_ORDER)?;
    visit.table(REPORT_COUNTS)?;
    visit.table(REPORT_ADDRESS_AGE)?;
    visit.table(MOVED)?;
    visit.table(USER_EMAILS)?;
    visit.table(POST_STATS)
}

/// Opening a table in a write transaction creates it, so readers never meet a missing one.
struct Create<'a>(&'a redb::WriteTransaction);

impl EachTable for Create<'_> {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), redb::Error> {
        self.0.open_table(def)?;
        Ok(())
    }
}

/// Live events kept for replay; a client further behind gets a `resync` event.
pub const EVENTS_KEPT: u64 = 100_000;

/// Rows of `recent` kept: the list shows 100 posts, and skips deleted posts and hidden boards
/// for at most this many rows.
pub const RECENT_KEPT: u64 = 10_000;

/// Backlinks served with one post; a post quoted more often lists the first this many.
pub const BACKLINKS_SHOWN: usize = 1000;

/// The schema this build writes. Bump it with a new rung in [`MIGRATIONS`].
pub const SCHEMA_VERSION: u64 = 7;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "wani.redb";

type Migration = fn(&redb::WriteTransaction) -> Result<(), redb::Error>;

/// The ladder: `MIGRATIONS[i]` takes a database from version `i + 1` to `i + 2`.
const MIGRATIONS: &[Migration] = &[
    migrate::v1_to_v2,
    migrate::v2_to_v3,
    migrate::v3_to_v4,
    migrate::v4_to_v5,
    migrate::v5_to_v6,
    migrate::v6_to_v7,
];

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
    (|| -> Result<(), redb::Error> {
        each_table(&mut Create(&txn))?;
        txn.open_table(META)?
            .insert("schema_version", SCHEMA_VERSION)?;
        moderation::index_file_posts(&txn)?;
        accounts::index_reset_expiry(&txn)?;
        Ok(())
    })()
    .map_err(|e| e.to_string())?;
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

    /// Boards whose deletion is still under way, by slug.
    pub fn deleting_boards(&self) -> ApiResult<Vec<String>> {
        let table = self.txn.open_table(BOARD_PURGE).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(storage_error)? {
            let (slug, _) = row.map_err(storage_error)?;
            out.push(slug.value().to_owned());
        }
        Ok(out)
    }

    /// A board's `(last_no, live_threads)`.
    pub fn board_counters(&self, slug: &str) -> ApiResult<(u64, u64)> {
        let table = self.txn.open_table(BOARD_COUNTERS).map_err(storage_error)?;
        let row = table.get(slug).map_err(storage_error)?;
        Ok(row.map_or((0, 0), |v| v.value()))
    }

    /// The latest `limit` staff log entries about `board`, newest first.
    pub fn board_log(&self, board: &str, limit: usize) -> ApiResult<Vec<LogEntry>> {
        self.board_log_page(board, u64::MAX, limit)
    }

    /// The id of the last live event committed (0 before the first).
    pub fn last_event_id(&self) -> ApiResult<u64> {
        let meta = self.txn.open_table(META).map_err(storage_error)?;
        let row = meta.get("event_seq").map_err(storage_error)?;
        Ok(row.map_or(0, |v| v.value()))
    }

    /// The oldest live event still kept.
    pub fn oldest_event_id(&self) -> ApiResult<Option<u64>> {
        let events = self.txn.open_table(EVENTS).map_err(storage_error)?;
        let first = events.first().map_err(storage_error)?;
        Ok(first.map(|(id, _)| id.value()))
    }

    /// Up to `limit` live events after id `after`, in order.
    pub fn events_after(&self, after: u64, limit: usize) -> ApiResult<Vec<crate::live::Published>> {
        let events = self.txn.open_table(EVENTS).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in events
            .range(after.saturating_add(1)..)
            .map_err(storage_error)?
            .take(limit)
        {
            let (id, value) = row.map_err(storage_error)?;
            let stored = StoredEvent::parse(value.value())
                .map_err(|e| ApiError::internal("storage_corrupt", e))?;
            if let Some(event) = self.replay(stored)? {
                out.push(crate::live::Published::new(id.value(), &event));
            }
        }
        Ok(out)
    }

    /// A stored event as it is sent: a post event with the post as it is now, or `None` when
    /// the post has been deleted since (its `delete` event comes later in the log).
    fn replay(&self, stored: StoredEvent) -> ApiResult<Option<crate::live::Event>> {
        use crate::live::Event;
        let json = |post: &Post| serde_json::to_value(post).expect("posts serialize");
        Ok(match stored {
            StoredEvent::Thread(board, thread) => {
                self.post(&board, thread)?.map(|post| Event::Thread {
                    post: json(&post),
                    board,
                    thread,
                })
            }
            StoredEvent::Post(board, thread, no) => {
                self.post(&board, no)?.map(|post| Event::Post {
                    post: json(&post),
                    board,
                    thread,
                })
            }
            StoredEvent::Other(event) => Some(event),
        })
    }

    /// A board's settings, or `board_not_found`.
    pub fn require_board(&self, slug: &str) -> ApiResult<Board> {
        self.board(slug)?
            .ok_or_else(|| ApiError::board_not_found(slug))
    }

    /// A stored file by its hex SHA-256; `None` when no committed post carries it.
    pub fn file(&self, sha256: &str) -> ApiResult<Option<StoredFile>> {
        let table = self.txn.open_table(FILES).map_err(storage_error)?;
        let row = table.get(sha256).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    /// The thread a deleted post belonged to; `None` when `no` was never deleted. A post of a
    /// deleted thread whose removal is still under way counts as deleted.
    pub fn tombstone(&self, board: &str, no: u64) -> ApiResult<Option<u64>> {
        let table = self.txn.open_table(TOMBSTONES).map_err(storage_error)?;
        let row = table.get((board, no)).map_err(storage_error)?;
        if let Some(thread) = row.map(|v| v.value()) {
            return Ok(Some(thread));
        }
        match self.stored_post(board, no)? {
            Some(post) if !self.thread_exists(board, post.thread)? => Ok(Some(post.thread)),
            _ => Ok(None),
        }
    }

    /// Whether thread `thread` exists (live or archived, not deleted).
    fn thread_exists(&self, board: &str, thread: u64) -> ApiResult<bool> {
        let table = self.txn.open_table(THREADS).map_err(storage_error)?;
        let row = table.get((board, thread)).map_err(storage_error)?;
        Ok(row.is_some())
    }

    /// The post row, whether or not its thread is still there, without backlinks.
    fn stored_post(&self, board: &str, no: u64) -> ApiResult<Option<Post>> {
        let table = self.txn.open_table(POSTS).map_err(storage_error)?;
        let row = table.get((board, no)).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    /// The thread of post `no` while the post is live: what a link to it needs.
    pub fn post_thread(&self, board: &str, no: u64) -> ApiResult<Option<u64>> {
        match self.stored_post(board, no)? {
            Some(post) if self.thread_exists(board, post.thread)? => Ok(Some(post.thread)),
            _ => Ok(None),
        }
    }

    /// Where post `no` of `board` lives since staff moved its thread: `(board, no, thread)`.
    pub fn moved(&self, board: &str, no: u64) -> ApiResult<Option<(String, u64, u64)>> {
        let table = self.txn.open_table(MOVED).map_err(storage_error)?;
        let row = table.get((board, no)).map_err(storage_error)?;
        Ok(row.map(|v| {
            let (to, new, thread) = v.value();
            (to.to_owned(), new, thread)
        }))
    }

    /// Archived threads of a board, most recently archived first.
    pub fn archived_threads(&self, board: &str) -> ApiResult<Vec<ThreadMeta>> {
        let archive = self.txn.open_table(ARCHIVE).map_err(storage_error)?;
        let range = archive
            .range((board, 0, 0)..=(board, u64::MAX, u64::MAX))
            .map_err(storage_error)?;
        let mut out = Vec::new();
        for row in range.rev() {
            let (key, _) = row.map_err(storage_error)?;
            let (_, _, thread) = key.value();
            if let Some(meta) = self.thread_meta(board, thread)? {
                out.push(meta);
            }
        }
        Ok(out)
    }

    /// The newest posts across boards, newest first, from boards `include` accepts.
    pub fn recent_posts(
        &self,
        limit: usize,
        include: impl Fn(&str) -> bool,
    ) -> ApiResult<Vec<Post>> {
        let recent = self.txn.open_table(RECENT).map_err(storage_error)?;
        let mut out = Vec::with_capacity(limit);
        // Bounded: boards that opt out or many deletions cannot make one read walk everything.
        for row in recent
            .iter()
            .map_err(storage_error)?
            .rev()
            .take(limit * 100)
        {
            if out.len() == limit {
                break;
            }
            let (_, value) = row.map_err(storage_error)?;
            let (board, no) = value.value();
            if !include(board) {
                continue;
            }
            // Deleted posts stay listed here and are skipped.
            if let Some(post) = self.post(board, no)? {
                out.push(post);
            }
        }
        Ok(out)
    }

    /// A live post as served (its backlinks, its links to posts deleted since drawn dead);
    /// `None` when it never existed or is deleted (its thread too).
    pub fn post(&self, board: &str, no: u64) -> ApiResult<Option<Post>> {
        let Some(mut post) = self.stored_post(board, no)? else {
            return Ok(None);
        };
        if !self.thread_exists(board, post.thread)? {
            return Ok(None);
        }
        let links = ReadLinks::open(&self.txn).map_err(storage_error)?;
        links.serve(&mut post).map_err(storage_error)?;
        Ok(Some(post))
    }

    pub fn thread_meta(&self, board: &str, no: u64) -> ApiResult<Option<ThreadMeta>> {
        let table = self.txn.open_table(THREADS).map_err(storage_error)?;
        let row = table.get((board, no)).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    /// A thread's state, or the error a client should get for it: 404 `board_not_found`,
    /// 410 `thread_deleted` for a deleted thread, 404 `thread_not_found` otherwise.
    pub fn require_thread(&self, board: &str, thread: u64) -> ApiResult<ThreadMeta> {
        self.require_board(board)?;
        match self.thread_meta(board, thread)? {
            Some(meta) => Ok(meta),
            None => Err(match self.tombstone(board, thread)? {
                Some(of) if of == thread => ApiError::thread_deleted(board, thread),
                _ => ApiError::thread_not_found(board, thread),
            }),
        }
    }

    /// The posts of a thread with numbers above `after`, oldest first (the thread's tail, as
    /// [`posts_of`](Self::posts_of) needs).
    pub fn thread_posts(&self, board: &str, thread: u64, after: u64) -> ApiResult<Vec<Post>> {
        let index = self.txn.open_table(THREAD_POSTS).map_err(storage_error)?;
        let start = after.saturating_add(1);
        let range = index.range((board, thread, start)..=(board, thread, u64::MAX));
        self.posts_of(range.map_err(storage_error)?)
    }

    /// The last `n` posts of a thread, oldest first (the OP included if it is among them): the
    /// thread's tail, as [`posts_of`](Self::posts_of) needs.
    pub fn last_posts(&self, board: &str, thread: u64, n: usize) -> ApiResult<Vec<Post>> {
        let index = self.txn.open_table(THREAD_POSTS).map_err(storage_error)?;
        let range = index.range((board, thread, 0)..=(board, thread, u64::MAX));
        let mut posts = self.posts_of(range.map_err(storage_error)?.rev().take(n))?;
        posts.reverse();
        Ok(posts)
    }

    /// The posts listed by `keys`, `thread_posts` rows of one thread from some number to its
    /// last, as served.
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
        let links = ReadLinks::open(&self.txn).map_err(storage_error)?;
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
        links.serve_thread_tail(&mut out).map_err(storage_error)?;
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
    use redb::ReadableTableMetadata;

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

    /// `test/fixtures/v2.redb` was written by the last version 2 build: board /t/ with thread 1
    /// and reply 2 quoting it. It opens as the current version with its posts and links intact,
    /// the account tables empty, and its board counted as seeded from the config (so a config
    /// that changes or drops /t/ no longer touches it), with an empty log.
    #[test]
    fn a_version_2_database_migrates() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/test/fixtures/v2.redb");
        std::fs::copy(fixture, dir.path().join(DB_FILE)).unwrap();
        let store = Store::open(dir.path()).unwrap();
        {
            let txn = store.db.begin_read().unwrap();
            let meta = txn.open_table(META).unwrap();
            assert_eq!(
                meta.get("schema_version").unwrap().unwrap().value(),
                SCHEMA_VERSION
            );
            let seeded = txn.open_table(SEEDED).unwrap();
            assert!(seeded.get("t").unwrap().is_some());
            assert_eq!(seeded.len().unwrap(), 1);
        }
        let r = store.read().unwrap();
        let op = r.post("t", 1).unwrap().expect("the thread survives");
        assert_eq!(op.subject.as_deref(), Some("hello"));
        assert_eq!(op.backlinks, vec![2]);
        assert_eq!(op.capcode, None);
        assert!(r.accounts(None, 10).unwrap().is_empty());
        assert_eq!(r.session(&[0; 32]).unwrap(), None);
        assert!(r.board_log("t", 10).unwrap().is_empty());
        assert_eq!(r.deleting_boards().unwrap(), Vec::<String>::new());
        assert_eq!(r.poster("t", 1).unwrap(), None, "nothing was stored then");
        assert!(r.posters_in_thread("t", 1, 10).unwrap().is_empty());
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
