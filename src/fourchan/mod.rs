//! The 4chan-compatible read API, with vichan's variants: the documents 4chan serves as static
//! JSON (board list, thread list, catalog, archive, index pages, threads) and its file names,
//! so that existing clients, archivers and downloaders work against wani unchanged.
//!
//! Each document is cached like the native ones, in the group whose writes change it, and
//! carries `Last-Modified` (4chan's clients poll with `If-Modified-Since`): the time of the last
//! commit that touched its group, or the server's start when none has since. wani does not
//! record when a deletion happened, so a time read from the data (the newest post, the last
//! bump) could miss one; the commit time cannot. Dates have one-second resolution, so a
//! `Last-Modified` in the current second is not sent (a later commit in that same second would
//! carry the same date), and `If-Modified-Since` is honoured only for an older one.

mod media;
mod post;

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::header::{
    HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use hyper::{HeaderMap, StatusCode};
use serde::Serialize;

use crate::api::threads::{listing_order, INDEX_REPLIES};
use crate::app::App;
use crate::cache::{Cache, Group, Key};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::{response, Response};
use crate::markup::{self, Dialect};
use crate::model::{Board, Post, ThreadMeta};
use crate::storage::Reader;

pub use media::file;
use post::{four_post, FourPost, Links, OpState};

/// What `boards.json` says for limits wani does not have (image count, video length): a
/// number no thread or file reaches that fits a 32-bit signed integer.
const NO_LIMIT: u32 = i32::MAX as u32;

/// `GET /boards.json` → `{"boards":[...]}`: every board with its limits in 4chan's terms.
/// With `flood_control` off no cooldown applies, and the cooldowns say 0.
pub async fn boards(app: &App, headers: &HeaderMap) -> ApiResult<Response> {
    let flood_control = app.config.flood_control;
    answer(app, headers, Key::FourBoards, Group::Boards, move |r| {
        let boards: Vec<BoardEntry> = r
            .boards()?
            .iter()
            .map(|b| {
                let mut entry = BoardEntry::from(b);
                if !flood_control {
                    entry.cooldowns = Cooldowns {
                        threads: 0,
                        replies: 0,
                        images: 0,
                    };
                }
                entry
            })
            .collect();
        Ok(response::envelope("boards", &boards))
    })
    .await
}

#[derive(Serialize)]
struct Cooldowns {
    threads: u32,
    replies: u32,
    images: u32,
}

#[derive(Serialize)]
struct BoardEntry {
    board: String,
    title: String,
    ws_board: u8,
    per_page: u32,
    pages: u32,
    max_filesize: u64,
    max_webm_filesize: u64,
    max_comment_chars: u32,
    max_webm_duration: u32,
    bump_limit: u32,
    image_limit: u32,
    cooldowns: Cooldowns,
    meta_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    spoilers: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_archived: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forced_anon: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_ids: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text_only: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webm_audio: Option<u8>,
}

impl From<&Board> for BoardEntry {
    fn from(b: &Board) -> Self {
        let flag = |on: bool| on.then_some(1);
        let takes = |kind: &str| b.allowed_types.iter().any(|t| t == kind);
        BoardEntry {
            board: b.slug.clone(),
            title: b.title.clone(),
            // 4chan's "work safe" flag.
            ws_board: u8::from(!b.nsfw),
            per_page: b.threads_per_page,
            pages: b.thread_limit.div_ceil(b.threads_per_page).max(1),
            max_filesize: b.max_file_bytes,
            max_webm_filesize: b.max_file_bytes,
            max_comment_chars: b.max_body_chars,
            max_webm_duration: NO_LIMIT,
            bump_limit: b.bump_limit,
            image_limit: NO_LIMIT,
            cooldowns: Cooldowns {
                threads: b.cooldown_threads_secs,
                replies: b.cooldown_replies_secs,
                images: b.cooldown_images_secs,
            },
            meta_description: markup::escape(&b.description, Dialect::FourChan { thread: 0 }),
            spoilers: flag(b.max_files > 0),
            is_archived: flag(b.archive_days > 0),
            forced_anon: flag(b.forced_anon),
            user_ids: flag(b.poster_ids),
            text_only: flag(b.max_files == 0),
            // Video keeps its sound.
            webm_audio: flag(takes("webm")),
        }
    }
}

#[derive(Serialize)]
struct Page<T> {
    page: u64,
    threads: Vec<T>,
}

/// Cuts threads into numbered pages of `per_page`; there is always a first page.
fn pages<T>(threads: Vec<T>, per_page: u32) -> Vec<Page<T>> {
    let mut pages: Vec<Page<T>> = Vec::new();
    for (i, thread) in threads.into_iter().enumerate() {
        if i % per_page as usize == 0 {
            pages.push(Page {
                page: pages.len() as u64 + 1,
                threads: Vec::new(),
            });
        }
        pages.last_mut().expect("pushed").threads.push(thread);
    }
    if pages.is_empty() {
        pages.push(Page {
            page: 1,
            threads: Vec::new(),
        });
    }
    pages
}

#[derive(Serialize)]
struct ListedThread {
    no: u64,
    last_modified: u64,
    replies: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    sticky: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    closed: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cyclical: Option<u8>,
}

/// `GET /{board}/threads.json` → `[{"page":1,"threads":[{"no","last_modified","replies"}]}]`:
/// the live threads in index order, by index page; `sticky`, `closed` and `cyclical` (1) where
/// staff set them.
pub async fn thread_list(app: &App, headers: &HeaderMap, board: String) -> ApiResult<Response> {
    let key = Key::FourThreadList(board.clone());
    let group = Group::Listing(board.clone());
    let cache = app.cache.clone();
    answer(app, headers, key, group, move |r| {
        let settings = r.require_board(&board)?;
        let mut threads = Vec::new();
        for meta in listing_order(r, &board)? {
            let last = r.last_posts(&board, meta.no, 1)?;
            let changed = cache.changed_at(&Group::Thread(board.clone(), meta.no));
            threads.push(ListedThread {
                no: meta.no,
                last_modified: thread_modified(&meta, last.last(), changed),
                replies: meta.replies,
                sticky: meta.sticky.then_some(1),
                closed: meta.locked.then_some(1),
                cyclical: meta.cyclical.then_some(1),
            });
        }
        Ok(json(&pages(threads, settings.threads_per_page)))
    })
    .await
}

/// `GET /{board}/catalog.json` → the pages of `threads.json`, each thread its opening post with
/// `last_replies` (up to five, oldest first), `omitted_posts` and `omitted_images`.
pub async fn catalog(app: &App, headers: &HeaderMap, board: String) -> ApiResult<Response> {
    let key = Key::FourCatalog(board.clone());
    let group = Group::Listing(board.clone());
    let cache = app.cache.clone();
    answer(app, headers, key, group, move |r| {
        let settings = r.require_board(&board)?;
        let links = Links::new(r);
        let mut threads = Vec::new();
        for meta in listing_order(r, &board)? {
            let (mut op, replies) = preview(r, &links, &settings, &meta, &cache)?;
            if let Some(fields) = op.op.as_mut() {
                fields.last_replies = (!replies.is_empty()).then_some(replies);
            }
            threads.push(op);
        }
        links.check()?;
        Ok(json(&pages(threads, settings.threads_per_page)))
    })
    .await
}

#[derive(Serialize)]
struct IndexThread {
    posts: Vec<FourPost>,
}

/// `GET /{board}/{page}.json` (pages from 1; 0 is page 1 too, where vichan clients start) →
/// `{"threads":[{"posts":[OP, ...its last five replies]}]}`.
pub async fn index(
    app: &App,
    headers: &HeaderMap,
    board: String,
    page: u64,
) -> ApiResult<Response> {
    let page = page.max(1);
    let key = Key::FourIndex(board.clone(), page);
    let group = Group::Listing(board.clone());
    let cache = app.cache.clone();
    answer(app, headers, key, group, move |r| {
        let settings = r.require_board(&board)?;
        let per_page = settings.threads_per_page as usize;
        let order = listing_order(r, &board)?;
        let last = order.len().div_ceil(per_page).max(1) as u64;
        if page > last {
            let message = format!("/{board}/ has {last} index pages; there is no page {page}.");
            return Err(ApiError::new(ErrorKind::PageNotFound, message));
        }
        let links = Links::new(r);
        let mut threads = Vec::new();
        let start = (page - 1) as usize * per_page;
        for meta in order.into_iter().skip(start).take(per_page) {
            let (op, replies) = preview(r, &links, &settings, &meta, &cache)?;
            let mut posts = vec![op];
            posts.extend(replies);
            threads.push(IndexThread { posts });
        }
        links.check()?;
        Ok(response::envelope("threads", &threads))
    })
    .await
}

/// A thread's opening post with the omitted counts set, and its last replies.
fn preview(
    r: &Reader,
    links: &Links<'_>,
    settings: &Board,
    meta: &ThreadMeta,
    cache: &Cache,
) -> ApiResult<(FourPost, Vec<FourPost>)> {
    let board = settings.slug.as_str();
    let op = opening_post(r, board, meta.no)?;
    let last = r.last_posts(board, meta.no, INDEX_REPLIES)?;
    let changed = cache.changed_at(&Group::Thread(board.to_owned(), meta.no));
    let last_modified = thread_modified(meta, last.last(), changed);
    let replies: Vec<&Post> = last.iter().filter(|p| p.no != p.thread).collect();
    let shown_images: u32 = replies.iter().map(|p| p.files.len() as u32).sum();
    let state = OpState {
        meta,
        board: settings,
        last_modified,
    };
    let mut four = four_post(&op, links, Some(state));
    if let Some(fields) = four.op.as_mut() {
        fields.omitted_posts = Some(meta.replies.saturating_sub(replies.len() as u32));
        fields.omitted_images = Some(meta.images.saturating_sub(shown_images));
    }
    let replies = replies
        .into_iter()
        .map(|p| four_post(p, links, None))
        .collect();
    Ok((four, replies))
}

/// `GET /{board}/archive.json` → `[no, ...]`: the archived threads' numbers, lowest first.
pub async fn archive(app: &App, headers: &HeaderMap, board: String) -> ApiResult<Response> {
    let key = Key::FourArchive(board.clone());
    let group = Group::Listing(board.clone());
    answer(app, headers, key, group, move |r| {
        r.require_board(&board)?;
        let mut numbers: Vec<u64> = r.archived_threads(&board)?.iter().map(|t| t.no).collect();
        numbers.sort_unstable();
        Ok(json(&numbers))
    })
    .await
}

/// `GET /{board}/thread/{no}.json` and vichan's `GET /{board}/res/{no}.json` →
/// `{"posts":[OP, ...replies]}`. A deleted thread is 404, as on 4chan.
pub async fn thread(
    app: &App,
    headers: &HeaderMap,
    board: String,
    thread: u64,
) -> ApiResult<Response> {
    let key = Key::FourThread(board.clone(), thread);
    let group = Group::Thread(board.clone(), thread);
    let cache = app.cache.clone();
    answer(app, headers, key, group, move |r| {
        let settings = r.require_board(&board)?;
        let Some(meta) = r.thread_meta(&board, thread)? else {
            if let Some((to, no, of)) = r.moved(&board, thread)? {
                if no == of {
                    let what = format!("Thread {thread} on /{board}/");
                    let location = format!("/{to}/thread/{no}.json");
                    return Err(ApiError::moved(what, &to, no, location));
                }
            }
            let message = match r.tombstone(&board, thread)? {
                Some(of) if of == thread => format!("Thread {thread} on /{board}/ was deleted."),
                _ => format!("There is no thread {thread} on /{board}/."),
            };
            return Err(ApiError::new(ErrorKind::ThreadNotFound, message));
        };
        let posts = r.thread_posts(&board, thread, 0)?;
        let changed = cache.changed_at(&Group::Thread(board.clone(), thread));
        let last_modified = thread_modified(&meta, posts.last(), changed);
        let links = Links::new(r);
        let mut four = Vec::with_capacity(posts.len());
        for post in &posts {
            let state = (post.no == thread).then_some(OpState {
                meta: &meta,
                board: &settings,
                last_modified,
            });
            four.push(four_post(post, &links, state));
        }
        links.check()?;
        Ok(response::envelope("posts", &four))
    })
    .await
}

fn opening_post(r: &Reader, board: &str, thread: u64) -> ApiResult<Post> {
    r.post(board, thread)?.ok_or_else(|| {
        ApiError::internal(
            "storage_corrupt",
            format!("thread /{board}/{thread} has no opening post"),
        )
    })
}

fn json(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("serializable")
}

/// A thread's `last_modified`: its newest post, bump or archiving, or a later commit to it seen
/// since the server started (a deletion, say).
fn thread_modified(meta: &ThreadMeta, newest: Option<&Post>, changed: Option<u64>) -> u64 {
    [
        Some(meta.bumped_at),
        meta.archived_at,
        newest.map(|p| p.created_at),
        changed,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The newest time a response built from `group` now may reflect: its last commit since the
/// start, else the start. Taken before reading, so a concurrent commit can only make the date
/// older than the body, never the body older than the date.
fn last_modified(app: &App, group: &Group) -> u64 {
    // A second past the start: every commit before the start is older than that.
    let started = SystemTime::now()
        .checked_sub(app.started.elapsed())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() + 1);
    app.cache
        .changed_at(group)
        .map_or(started, |c| c.max(started))
}

/// A cached GET as the native routes answer it (strong ETag, `If-None-Match`), plus
/// `Last-Modified` and `If-Modified-Since`.
async fn answer(
    app: &App,
    headers: &HeaderMap,
    key: Key,
    group: Group,
    build: impl FnOnce(&Reader) -> ApiResult<Vec<u8>> + Send + 'static,
) -> ApiResult<Response> {
    let modified = last_modified(app, &group);
    let response = app
        .cached_get(headers, key, move |r| Ok((group, build(r)?)))
        .await?;
    Ok(dated(headers, response, modified, unix_now()))
}

/// Adds `Last-Modified` to a 200 or 304 and turns a 200 into a 304 when `If-Modified-Since`
/// says the client has it. Only for a date before `now`'s second (see the module docs); and,
/// as RFC 9110 says, `If-Modified-Since` counts only without `If-None-Match`, and not when it
/// is in the future.
fn dated(headers: &HeaderMap, mut response: Response, modified: u64, now: u64) -> Response {
    if modified >= now {
        return response;
    }
    let since = headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let unchanged = since.is_some_and(|since| modified <= since && since <= now);
    if unchanged && response.status() == StatusCode::OK && !headers.contains_key(IF_NONE_MATCH) {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.body_mut() = response::body(Bytes::new());
        response.headers_mut().remove(CONTENT_TYPE);
        response.headers_mut().remove(CONTENT_ENCODING);
    }
    let date = httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(modified));
    if let Ok(value) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(LAST_MODIFIED, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Response {
        let value = std::sync::Arc::new(crate::cache::Cached::new(b"[]".to_vec()));
        response::cached(&HeaderMap::new(), &value)
    }

    fn with(pairs: &[(&hyper::header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    const T: u64 = 1_700_000_000; // Tue, 14 Nov 2023 22:13:20 GMT
    const AT: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
    const BEFORE: &str = "Tue, 14 Nov 2023 22:13:19 GMT";

    #[test]
    fn if_modified_since() {
        let cases = [
            (with(&[]), T + 5, 200, true),
            (with(&[(&IF_MODIFIED_SINCE, AT)]), T + 5, 304, true),
            (with(&[(&IF_MODIFIED_SINCE, BEFORE)]), T + 5, 200, true),
            (with(&[(&IF_MODIFIED_SINCE, "yesterday")]), T + 5, 200, true),
            // Changed in the current second: no date to trust yet.
            (with(&[(&IF_MODIFIED_SINCE, AT)]), T, 200, false),
            // A date in the future is no proof of anything.
            (with(&[(&IF_MODIFIED_SINCE, AT)]), T - 5, 200, false),
            (
                with(&[(&IF_MODIFIED_SINCE, AT), (&IF_NONE_MATCH, "\"other\"")]),
                T + 5,
                200,
                true,
            ),
        ];
        for (i, (headers, now, status, dated_header)) in cases.into_iter().enumerate() {
            let r = dated(&headers, ok(), T, now);
            assert_eq!(r.status().as_u16(), status, "case {i}");
            let lm = r.headers().get(LAST_MODIFIED).map(|v| v.to_str().unwrap());
            assert_eq!(lm, dated_header.then_some(AT), "case {i}");
            if status == 304 {
                assert!(r.headers().get(CONTENT_TYPE).is_none());
                assert!(r.headers().get("etag").is_some());
            }
        }
    }

    #[test]
    fn pages_of_threads() {
        let cut = |n: u32, per: u32| -> Vec<usize> {
            pages((0..n).collect(), per)
                .iter()
                .map(|p| p.threads.len())
                .collect()
        };
        assert_eq!(cut(0, 3), [0]);
        assert_eq!(cut(3, 3), [3]);
        assert_eq!(cut(7, 3), [3, 3, 1]);
        let numbered: Vec<u64> = pages((0..7).collect::<Vec<u32>>(), 3)
            .iter()
            .map(|p| p.page)
            .collect();
        assert_eq!(numbered, [1, 2, 3]);
    }

    #[test]
    fn thread_modified_takes_the_newest_event() {
        let meta = ThreadMeta {
            no: 1,
            sticky: false,
            locked: false,
            archived: true,
            archived_at: Some(50),
            replies: 0,
            images: 0,
            bumped_at: 40,
            bump_key: 1,
            sticky_order: 0,
            cyclical: false,
        };
        assert_eq!(thread_modified(&meta, None, None), 50);
        assert_eq!(thread_modified(&meta, None, Some(60)), 60);
    }
}
