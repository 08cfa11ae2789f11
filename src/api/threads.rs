//! Threads: opening one, reading one, and the board's two listings (catalog and index pages).

use std::net::IpAddr;

use hyper::body::Incoming;
use hyper::{HeaderMap, Request};
use serde::Serialize;

use crate::api::posts::{self, Kind};
use crate::app::App;
use crate::auth::Caller;
use crate::cache::{Cached, Group, Key, PostIndex};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{query, query_number, refuse_unread};
use crate::http::{response, Response};
use crate::model::{Post, ThreadMeta};
use crate::storage::{Reader, Write};

/// Replies shown under each thread on an index page.
pub const INDEX_REPLIES: usize = 5;
/// Characters of the OP's body in a catalog excerpt.
pub const EXCERPT_CHARS: usize = 140;

/// `POST /api/boards/{board}/threads` with `{"subject"?, "name"?, "body", "sage"?}`, or the same
/// as multipart/form-data with `file` and `spoiler` parts → 201 `{"board","thread","no"}`.
pub async fn create(
    app: &App,
    board: String,
    req: Request<Incoming>,
    client: IpAddr,
    caller: Option<&Caller>,
) -> ApiResult<Response> {
    let settings = match app.board(&board).await {
        Ok(settings) => settings,
        Err(e) => return Err(refuse_unread(req, e).await),
    };
    if let Err(e) = crate::api::bans::refuse_banned(app, &board, client) {
        return Err(refuse_unread(req, e).await);
    }
    let (draft, placement) =
        posts::receive(app, req, client, &settings, Kind::Thread, caller).await?;
    posts::submit(app, Write::CreateThread { board, draft }, placement).await
}

/// A thread's fields; its `posts` follow them in the serialized body.
#[derive(Serialize)]
struct ThreadHead<'a> {
    no: u64,
    subject: Option<&'a str>,
    sticky: bool,
    locked: bool,
    archived: bool,
    replies: u32,
    images: u32,
    bumped_at: u64,
}

/// `GET /api/boards/{board}/threads/{thread}[?after=N]` → `{"thread":{..., "posts":[Post]}}`.
/// With `after`, only the posts numbered above N: cheap polling for new replies. Both forms are
/// served from the one cached copy of the whole thread (`after` as slices of it), so however
/// many readers poll with whatever `after`, a thread is read and serialized once per change.
pub async fn get(
    app: &App,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    board: String,
    thread: u64,
) -> ApiResult<Response> {
    let params = query(raw_query, &["after"])?;
    let after = query_number(&params, "after", 0)?;
    let key = Key::Thread(board.clone(), thread);
    let value = app
        .cached(key, move |r: &Reader| {
            let body = thread_json(r, &board, thread)?;
            Ok((Group::Thread(board, thread), body))
        })
        .await?;
    let sliced = after.and_then(|after| value.posts_after(after));
    Ok(match sliced {
        Some((parts, etag)) => response::cached_parts(headers, parts, &etag),
        None => response::cached(headers, &value),
    })
}

/// The whole thread, with where each post starts so `?after=` can slice it.
fn thread_json(r: &Reader, board: &str, thread: u64) -> ApiResult<Cached> {
    let meta = r.require_thread(board, thread)?;
    let subject = r.post(board, thread)?.and_then(|op| op.subject);
    let posts = r.thread_posts(board, thread, 0)?;
    let head = ThreadHead {
        no: meta.no,
        subject: subject.as_deref(),
        sticky: meta.sticky,
        locked: meta.locked,
        archived: meta.archived,
        replies: meta.replies,
        images: meta.images,
        bumped_at: meta.bumped_at,
    };
    // `{"thread":{<head fields>,"posts":[...]}}`, written by hand only to note the offsets.
    let mut out = response::envelope("thread", &head);
    out.truncate(out.len() - 2); // the head's `}` and the envelope's `}`
    out.extend_from_slice(b",\"posts\":[");
    let list_start = out.len();
    let mut starts = Vec::with_capacity(posts.len());
    for (i, post) in posts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        starts.push((post.no, out.len()));
        serde_json::to_writer(&mut out, post).expect("posts serialize");
    }
    let list_end = out.len();
    out.extend_from_slice(b"]}}");
    let index = PostIndex {
        list_start,
        starts,
        list_end,
    };
    Ok(Cached::with_posts(out, index))
}

/// Live threads in listing order: sticky threads first, then by last bump, newest first.
pub(crate) fn listing_order(r: &Reader, board: &str) -> ApiResult<Vec<ThreadMeta>> {
    r.require_board(board)?;
    let mut threads = r.live_threads(board)?;
    threads.sort_by_key(|t| !t.sticky); // stable: bump order is kept within each group
    Ok(threads)
}

fn op(r: &Reader, board: &str, thread: u64) -> ApiResult<Post> {
    r.post(board, thread)?.ok_or_else(|| {
        ApiError::internal(
            "storage_corrupt",
            format!("thread /{board}/{thread} has no opening post"),
        )
    })
}

#[derive(Serialize)]
struct CatalogEntry {
    #[serde(flatten)]
    op: Post,
    sticky: bool,
    locked: bool,
    replies: u32,
    images: u32,
    bumped_at: u64,
    excerpt: String,
}

/// `GET /api/boards/{board}/catalog` → `{"threads":[...]}`: every live thread, sticky first,
/// then in bump order, with the OP's fields, counts, last bump time and a short excerpt.
pub async fn catalog(
    app: &App,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    board: String,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    app.cached_get(headers, Key::Catalog(board.clone()), move |r| {
        let mut threads = Vec::new();
        for meta in listing_order(r, &board)? {
            let op = op(r, &board, meta.no)?;
            threads.push(CatalogEntry {
                excerpt: excerpt(&op.body),
                op,
                sticky: meta.sticky,
                locked: meta.locked,
                replies: meta.replies,
                images: meta.images,
                bumped_at: meta.bumped_at,
            });
        }
        let body = response::envelope("threads", &threads);
        Ok((Group::Listing(board), body))
    })
    .await
}

/// The start of a body on one line, whitespace collapsed, cut at a character boundary.
fn excerpt(body: &str) -> String {
    let mut words = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = words.char_indices().nth(EXCERPT_CHARS) {
        words.truncate(cut);
        words.push('…');
    }
    words
}

#[derive(Serialize)]
struct ArchivedThread {
    no: u64,
    subject: Option<String>,
    excerpt: String,
    archived_at: Option<u64>,
    replies: u32,
    images: u32,
}

/// `GET /api/boards/{board}/archive` → `{"threads":[{"no","subject","excerpt","archived_at",
/// "replies","images"}]}`: archived threads, most recently archived first.
pub async fn archive(
    app: &App,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    board: String,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    app.cached_get(headers, Key::Archive(board.clone()), move |r| {
        r.require_board(&board)?;
        let mut threads = Vec::new();
        for meta in r.archived_threads(&board)? {
            let op = op(r, &board, meta.no)?;
            threads.push(ArchivedThread {
                no: meta.no,
                excerpt: excerpt(&op.body),
                subject: op.subject,
                archived_at: meta.archived_at,
                replies: meta.replies,
                images: meta.images,
            });
        }
        Ok((
            Group::Listing(board),
            response::envelope("threads", &threads),
        ))
    })
    .await
}

#[derive(Serialize)]
struct IndexThread {
    #[serde(flatten)]
    op: Post,
    sticky: bool,
    locked: bool,
    replies: u32,
    images: u32,
    bumped_at: u64,
    posts: Vec<Post>,
    omitted_posts: u32,
    omitted_images: u32,
}

#[derive(Serialize)]
struct IndexPage {
    page: u64,
    pages: u64,
    threads: Vec<IndexThread>,
}

/// `GET /api/boards/{board}/index?page=N` (pages from 1) → `{"page","pages","threads":[...]}`:
/// each thread with its OP fields and `posts`, the OP and its last five replies.
pub async fn index(
    app: &App,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    board: String,
) -> ApiResult<Response> {
    let params = query(raw_query, &["page"])?;
    let page = query_number(&params, "page", 1)?.unwrap_or(1);
    app.cached_get(headers, Key::Index(board.clone(), page), move |r| {
        let per_page = r.require_board(&board)?.threads_per_page;
        let order = listing_order(r, &board)?;
        let pages = order.len().div_ceil(per_page as usize).max(1) as u64;
        if page > pages {
            let message = format!("/{board}/ has {pages} index pages; there is no page {page}.");
            return Err(ApiError::new(ErrorKind::PageNotFound, message).with_field("page"));
        }
        let start = (page - 1) as usize * per_page as usize;
        let mut threads = Vec::new();
        for meta in order.into_iter().skip(start).take(per_page as usize) {
            let op = op(r, &board, meta.no)?;
            let last = r.last_posts(&board, meta.no, INDEX_REPLIES)?;
            let replies: Vec<Post> = last.into_iter().filter(|p| p.no != p.thread).collect();
            let mut posts = Vec::with_capacity(replies.len() + 1);
            posts.push(op.clone());
            let shown = replies.len() as u32;
            let shown_images: u32 = replies.iter().map(|p| p.files.len() as u32).sum();
            posts.extend(replies);
            threads.push(IndexThread {
                op,
                sticky: meta.sticky,
                locked: meta.locked,
                replies: meta.replies,
                images: meta.images,
                bumped_at: meta.bumped_at,
                posts,
                omitted_posts: meta.replies - shown,
                omitted_images: meta.images.saturating_sub(shown_images),
            });
        }
        let body = serde_json::to_vec(&IndexPage {
            page,
            pages,
            threads,
        })
        .expect("serializable");
        Ok((Group::Listing(board), body))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts() {
        assert_eq!(excerpt("  hello \n\n world  "), "hello world");
        let long = "é".repeat(EXCERPT_CHARS + 10);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(
            excerpt(&"a".repeat(EXCERPT_CHARS)),
            "a".repeat(EXCERPT_CHARS)
        );
    }
}
