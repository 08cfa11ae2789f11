//! The application state every handler receives: config, storage, the writer and the cache.

use std::sync::Arc;
use std::time::Instant;

use hyper::HeaderMap;

use crate::cache::{Cache, Cached, Group, Key};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::http::{response, Response};
use crate::model::Board;
use crate::notify::{notify, Severity};
use crate::storage::{Reader, Store, Write, Writer};

pub struct App {
    pub config: Config,
    pub store: Store,
    pub writer: Writer,
    pub cache: Arc<Cache>,
    pub started: Instant,
}

impl App {
    /// Opens the database, starts the writer, and makes the boards match the config.
    pub async fn start(config: Config) -> Result<Arc<App>, String> {
        let store = Store::open(&config.data_dir).map_err(|e| e.to_string())?;
        let cache = Arc::new(Cache::new(config.cache_bytes));
        let listener_cache = cache.clone();
        let writer = Writer::start(
            &store,
            Box::new(move |changes| listener_cache.apply(changes)),
        );
        let app = Arc::new(App {
            config,
            store,
            writer,
            cache,
            started: Instant::now(),
        });
        app.sync_boards().await?;
        Ok(app)
    }

    /// Creates config boards that are missing and updates those whose settings changed.
    async fn sync_boards(&self) -> Result<(), String> {
        let stored = self.read(|r| r.boards()).await.map_err(|e| e.message)?;
        for wanted in self.config.boards.iter().map(Board::from) {
            let existing = stored.iter().find(|b| b.slug == wanted.slug);
            if existing == Some(&wanted) {
                continue;
            }
            let action = if existing.is_some() {
                "updated"
            } else {
                "created"
            };
            self.writer
                .submit(Write::PutBoard(wanted.clone()))
                .await
                .map_err(|e| e.message)?;
            notify(
                Severity::Info,
                "board_synced",
                format_args!("board /{}/ {action} from config", wanted.slug),
            );
        }
        Ok(())
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
        if let Some(hit) = self.cache.get(&key) {
            return Ok(response::cached(request_headers, &hit));
        }
        let epoch = self.cache.epoch();
        let (group, body) = self.read(build).await?;
        let value = Arc::new(Cached::new(body));
        self.cache.insert(key, group, epoch, value.clone());
        Ok(response::cached(request_headers, &value))
    }

    /// A board's settings, for validating a write against its limits.
    pub async fn board(&self, slug: &str) -> ApiResult<Board> {
        let owned = slug.to_owned();
        self.read(move |r| r.board(&owned))
            .await?
            .ok_or_else(|| ApiError::board_not_found(slug))
    }
}
