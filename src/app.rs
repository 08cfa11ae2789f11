//! The application state every handler receives: config, storage, the writer and the cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::HeaderMap;
use tokio::sync::Semaphore;

use crate::backup::Backup;
use crate::bans::BanIndex;
use crate::cache::{BoardCache, Cache, Cached, Group, Key};
use crate::config::Config;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::files::FileStore;
use crate::http::slots::Slots;
use crate::http::{response, Response};
use crate::limit::{DeleteGuard, ReportGuard};
use crate::live::Hub;
use crate::model::Board;
use crate::notify::{notify, Severity};
use crate::poster::{Keys, SECRET_FILE};
use crate::storage::{Change, Reader, Store, Write, Writer, Written};

pub struct App {
    pub config: Config,
    pub store: Store,
    pub writer: Writer,
    pub cache: Arc<Cache>,
    /// Board settings for the write path, kept in step by the commit listener.
    pub boards: Arc<BoardCache>,
    pub files: Arc<FileStore>,
    pub keys: Keys,
    pub live: Arc<Hub>,
    /// Live streams open per client, against `max_streams_per_client`.
    pub live_streams: Arc<Slots>,
    /// Limits deletion-password guesses per client network and per post.
    pub delete_guard: DeleteGuard,
    /// The request budget, flood control and the DNSBL lookup.
    pub antispam: crate::antispam::Antispam,
    /// Limits reports per client network.
    pub report_guard: ReportGuard,
    /// The S3 backup, when the config has an `[s3]` section.
    pub backup: Option<Arc<Backup>>,
    /// Image work in flight at once: one per core, so uploads never starve each other or the
    /// blocking threads that serve reads.
    pub media_slots: Arc<Semaphore>,
    /// The memory budget for image and video work (`media_memory_bytes`), one permit a KiB:
    /// each upload holds what its decoding will take, so together they never exceed it.
    pub media_budget: Arc<Semaphore>,
    pub started: Instant,
    /// The web client's files and entry page.
    pub web: crate::web::Client,
    /// Cookies, password hashing and the login throttle.
    pub accounts: crate::auth::gate::Accounts,
    /// Password recovery by email: the mailer (with `[smtp]`) and its hourly budgets.
    pub recovery: crate::api::recovery::Recovery,
    /// Captcha challenges and posting rates (`crate::antispam::Captchas`).
    pub captchas: crate::antispam::Captchas,
    /// The file bans uploads are checked against.
    pub file_bans: crate::filebans::Live,
    /// The word filters posts are checked against, compiled.
    pub filters: crate::filters::Live,
    /// The active bans, derived from the `bans` table and kept in step by the commit listener.
    pub bans: Arc<BanIndex>,
    /// Bumped after each commit that changed a board's count of reported posts; the staff
    /// stream of report counts follows it.
    pub report_signal: Arc<crate::live::ReportSignal>,
}

impl App {
    /// Opens the database, starts the writer, and seeds the config's boards.
    pub async fn start(config: Config) -> Result<Arc<App>, String> {
        let store = Store::open(&config.data_dir).map_err(|e| e.to_string())?;
        let files = FileStore::open(&config.data_dir, store.clone()).map_err(|e| {
            format!(
                "cannot prepare the file directories in {}: {e}",
                config.data_dir.display()
            )
        })?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let keys = Keys::load_or_create(&config.data_dir).map_err(|e| {
            format!(
                "cannot read or create {}: {e}",
                config.data_dir.join(SECRET_FILE).display()
            )
        })?;
        let accounts = crate::auth::gate::Accounts::new(&config.accounts, &config.data_dir)?;
        let recovery = crate::api::recovery::Recovery::new(&config)?;
        let captchas = crate::antispam::Captchas::new(&config.captcha);
        let files = Arc::new(files);
        let cache = Arc::new(Cache::new(config.cache_bytes));
        let boards = Arc::new(BoardCache::default());
        let live = Arc::new(Hub::new());
        let backup = match &config.s3 {
            Some(s3) => Some(Arc::new(Backup::connect(s3)?)),
            None => None,
        };
        let bans = {
            let stored = store.read().and_then(|r| r.all_bans());
            Arc::new(BanIndex::new(stored.map_err(|e| e.message)?))
        };
        let report_signal = Arc::new(crate::live::ReportSignal::default());
        let listener = {
            let (cache, files, live) = (cache.clone(), files.clone(), live.clone());
            let boards = boards.clone();
            let report_signal = report_signal.clone();
            let bans = bans.clone();
            let backup = backup.clone();
            // Runs on the writer thread after each commit, before any request is answered: a
            // deletion's answer means its files are gone. The live events come after the
            // answers, and publishing only queues them for the hub's fan-out thread.
            move |changes: &[Change]| {
                cache.apply(changes);
                boards.apply(changes);
                for change in changes {
                    match change {
                        Change::FileUnreferenced {
                            sha256,
                            ext,
                            thumb_ext,
                        } => files.unreferenced(sha256, ext, thumb_ext),
                        // With no stream open nobody waits for it: skipping spares the
                        // fan-out thread a wake-up per commit. A stream opened later subscribes
                        // before it reads where to start, and this event, committed already,
                        // is before that start.
                        Change::Live(event) if live.subscribers() > 0 => {
                            live.publish([event.clone()]);
                        }
                        Change::BanSaved(ban) => bans.put((**ban).clone()),
                        Change::BanRemoved(id) => bans.remove(*id),
                        // A deleted board's reports leave the counts with it.
                        Change::ReportCounts { .. } | Change::BoardDeleted { .. } => {
                            report_signal.bump()
                        }
                        Change::OutboxQueued => {
                            if let Some(backup) = &backup {
                                backup.wake();
                            }
                        }
                        _ => {}
                    }
                }
            }
        };
        let writer = Writer::start(&store, Box::new(listener));
        let config_budget = config.media_memory_bytes;
        let live_streams = Slots::new(config.max_streams_per_client);
        let delete_guard = DeleteGuard::new(config.delete_limits());
        let antispam = crate::antispam::Antispam::new(&config)?;
        let app = Arc::new(App {
            config,
            store,
            writer,
            cache,
            boards,
            files,
            keys,
            live,
            live_streams,
            delete_guard,
            antispam,
            report_guard: ReportGuard::default(),
            backup,
            media_slots: Arc::new(Semaphore::new(cores)),
            media_budget: Arc::new(Semaphore::new(crate::uploads::budget_permits(
                config_budget,
            ))),
            started: Instant::now(),
            web: crate::web::Client::new(),
            accounts,
            recovery,
            captchas,
            file_bans: Default::default(),
            filters: Default::default(),
            bans,
            report_signal,
        });
        app.seed_boards().await?;
        app.reload_file_bans()
            .await
            .map_err(|e| format!("cannot read the file bans: {}", e.message))?;
        app.reload_filters()
            .await
            .map_err(|e| format!("cannot read the word filters: {}", e.message))?;
        let files = app.files.clone();
        tokio::task::spawn_blocking(move || match files.sweep_orphans() {
            Ok(0) => {}
            Ok(n) => notify(
                Severity::Warning,
                "orphan_files_removed",
                format_args!("removed {n} stored files that no post references"),
            ),
            Err(e) => notify(Severity::Warning, "orphan_sweep_failed", e),
        });
        tokio::spawn(prune_archives(app.clone()));
        tokio::spawn(sweep_sessions(app.clone()));
        tokio::spawn(expire_bans(app.clone()));
        tokio::spawn(erase_addresses(app.clone()));
        crate::backup::start(&app).await?;
        Ok(app)
    }

    /// Reads every file ban and makes it the set uploads are checked against. Called after
    /// each committed change: the set read then holds at least that change.
    pub async fn reload_file_bans(&self) -> ApiResult<()> {
        let _turn = self.file_bans.rebuilding().await;
        let bans = self.read(|r| r.all_file_bans()).await?;
        self.file_bans.set(crate::filebans::BanSet::new(bans));
        Ok(())
    }

    /// Reads and compiles every word filter, as [`App::reload_file_bans`] does for bans.
    pub async fn reload_filters(&self) -> ApiResult<()> {
        let _turn = self.filters.rebuilding().await;
        let filters = self.read(|r| r.filters()).await?;
        let compiled = tokio::task::spawn_blocking(move || crate::filters::Compiled::new(filters))
            .await
            .map_err(|e| ApiError::internal("filter_compile_failed", e))?;
        self.filters.set(compiled);
        Ok(())
    }

    /// Creates the config's boards that the database has never held; the others keep the
    /// settings stored, which the admin API edits.
    async fn seed_boards(&self) -> Result<(), String> {
        let wanted = self.config.effective_boards();
        let written = self
            .writer
            .submit(Write::SeedBoards(wanted))
            .await
            .map_err(|e| e.message)?;
        if let Written::Seeded(created) = written {
            for slug in created {
                notify(
                    Severity::Info,
                    "board_seeded",
                    format_args!("board /{slug}/ created from config"),
                );
            }
        }
        Ok(())
    }

    /// Whether this server takes video uploads, which a board may then allow.
    pub fn takes_video(&self) -> bool {
        self.config.ffmpeg_path.is_some()
    }

    /// Runs a read on a blocking thread, in one read transaction.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Reader) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store.read()?))
            .await
            .map_err(|e| ApiError::internal("read_task_failed", e))?
    }

    /// Answers a GET from the cache, or builds the body with `build` (which also names the group
    /// the body depends on), caches it, and answers.
    pub async fn cached_get(
        &self,
        request_headers: &HeaderMap,
        key: Key,
        build: impl FnOnce(&Reader) -> ApiResult<(Group, Vec<u8>)> + Send + 'static,
    ) -> ApiResult<Response> {
        let value = self
            .cached(key, move |r| {
                let (group, body) = build(r)?;
                Ok((group, Cached::new(body)))
            })
            .await?;
        Ok(response::cached(request_headers, &value))
    }

    /// The cached value of `key`, or the one `build` makes on a blocking thread. Concurrent
    /// misses of one key share one build (see [`Cache::get_or_build`]).
    pub async fn cached(
        &self,
        key: Key,
        build: impl FnOnce(&Reader) -> ApiResult<(Group, Cached)> + Send + 'static,
    ) -> ApiResult<Arc<Cached>> {
        let value = self
            .cache
            .get_or_build(key.clone(), || self.read(build))
            .await?;
        if value.claim() {
            // Off the request path: this reader and those that waited with it get the identity
            // bytes now; the copies serve the readers after them.
            let cache = self.cache.clone();
            let value = value.clone();
            tokio::task::spawn_blocking(move || cache.compress(&key, &value));
        }
        Ok(value)
    }

    /// A board's settings, for validating a write against its limits: from memory when no
    /// commit changed the board since it was last read (see [`BoardCache`]).
    pub async fn board(&self, slug: &str) -> ApiResult<Board> {
        if let Some(board) = self.boards.get(slug) {
            return Ok(board);
        }
        let generation = self.boards.generation();
        let owned = slug.to_owned();
        let board = self.read(move |r| r.require_board(&owned)).await?;
        self.boards.insert(generation, &board);
        Ok(board)
    }
}

/// How often archived threads past their board's `archive_days` are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The archive pruner: at start and then hourly, deletes expired archived threads through the
/// writer. Ends when the writer stops.
async fn prune_archives(app: Arc<App>) {
    loop {
        match app.writer.submit(Write::PruneArchive).await {
            Ok(Written::Pruned { threads }) if threads > 0 => notify(
                Severity::Info,
                "archive_pruned",
                format_args!("deleted {threads} expired archived threads"),
            ),
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Unavailable => return,
            Err(e) => notify(Severity::Warning, "archive_prune_failed", e.message),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}

/// How often expired sessions are removed.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// The session sweeper: removes expired sessions, API tokens and password reset tokens through
/// the writer, a chunk per transaction, at start and then every ten minutes. An expired one is
/// refused when used whether or not it was swept yet; sweeping only keeps the tables small.
/// Ends when the writer stops.
async fn sweep_sessions(app: Arc<App>) {
    loop {
        let write = Write::Account(crate::storage::AccountWrite::Sweep {
            now_ms: crate::auth::gate::now_ms(),
        });
        match app.writer.submit(write).await {
            Ok(Written::Swept { sessions }) if sessions == crate::storage::writer::SWEEP_CHUNK => {
                continue;
            }
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Unavailable => return,
            Err(e) => notify(Severity::Warning, "session_sweep_failed", e.message),
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

/// How often expired bans are removed. An expired ban stops applying at once whether or not it
/// was removed yet (the index checks the time); removing only keeps the tables small.
const EXPIRE_EVERY: Duration = Duration::from_secs(60);

/// The ban expirer: removes expired bans through the writer, a chunk per transaction, read
/// from the start of the `ban_expiry` index (no scan of the live bans). Ends when the writer
/// stops.
async fn expire_bans(app: Arc<App>) {
    loop {
        let now = crate::storage::writer::unix_now();
        let write = Write::Ban(crate::storage::BanWrite::Expire { now });
        match app.writer.submit(write).await {
            Ok(Written::BansExpired(n)) if n == crate::storage::writer::EXPIRE_CHUNK => continue,
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Unavailable => return,
            Err(e) => notify(Severity::Warning, "ban_expiry_failed", e.message),
        }
        tokio::time::sleep(EXPIRE_EVERY).await;
    }
}

/// How often the address eraser looks for addresses past `ip_retention_days`: a tenth of the
/// retention, between one second and an hour, so an address outlives its retention by at most
/// a tenth of it (or an hour).
fn erase_every(retention_secs: u64) -> Duration {
    Duration::from_secs((retention_secs / 10).clamp(1, 3600))
}

/// The address eraser: erases the client addresses stored with posts once they are older than
/// `ip_retention_days`, a chunk per transaction through the writer, keeping the cloaks. Ends
/// when the writer stops.
async fn erase_addresses(app: Arc<App>) {
    let retention_secs = app.config.ip_retention_secs();
    loop {
        let write = Write::EraseAddresses { retention_secs };
        match app.writer.submit(write).await {
            Ok(Written::Erased { count }) if count == crate::storage::writer::ERASE_CHUNK => {
                continue;
            }
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Unavailable => return,
            Err(e) => notify(Severity::Warning, "address_erase_failed", e.message),
        }
        tokio::time::sleep(erase_every(retention_secs)).await;
    }
}
