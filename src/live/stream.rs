//! One subscriber's event stream: replay from the `events` table, then its mailbox in the hub.
//!
//! The stream is the response body itself: hyper polls it on the connection's task, which the
//! hub's fan-out thread wakes. A poll takes every frame the mailbox holds and hands them to
//! hyper as one chunk, so an event costs a subscriber one write to its socket.

use std::collections::VecDeque;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::HeaderMap;
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant, Sleep};

use super::hub::{Filter, Follower, Taken};
use super::Published;
use crate::app::App;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{query, query_number};
use crate::http::slots::{Slot, RETRY_AFTER_SECS};
use crate::http::Response;

/// A comment line every this often keeps proxies and clients from timing the stream out.
const HEARTBEAT: Duration = Duration::from_secs(20);
/// Events read from the table per replay step.
const REPLAY_BATCH: usize = 256;
/// Frames waiting together are sent as one chunk up to this size (a replay batch of large
/// posts is split rather than copied into one buffer).
const CHUNK: usize = 64 * 1024;

type Replayed = ApiResult<(Option<u64>, Vec<Published>)>;

/// The body of one `GET /api/live` response.
struct LiveBody {
    app: Arc<App>,
    follower: Follower,
    /// Fires at the next heartbeat or at the end of the stream's life, whichever is first.
    timer: Pin<Box<Sleep>>,
    next_heartbeat: Instant,
    /// The stream ends here; the client resumes with `Last-Event-ID`.
    end: Instant,
    /// The client's claim on one of its streams, given back when the stream ends.
    _slot: Slot,
    /// The last event id this stream has dealt with (sent or filtered out).
    position: u64,
    /// The table may hold events after `position` that the mailbox will not deliver.
    replaying: bool,
    /// The table read under way.
    replay: Option<JoinHandle<Replayed>>,
    /// Bytes to send, in order.
    ready: VecDeque<Bytes>,
    /// What was taken from the mailbox (kept to reuse its allocation).
    taken: VecDeque<Arc<Published>>,
    done: bool,
}

/// `GET /api/live?board=b[&thread=N]` with optional `Last-Event-ID` → `text/event-stream` of
/// `thread`, `post`, `delete` and `update` events for the board (or one thread of it). With
/// `Last-Event-ID`, everything after that id is replayed first. One client holds at most
/// `max_streams_per_client` streams (429 beyond), each for at most `stream_max_secs`.
pub async fn subscribe(
    app: Arc<App>,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    client: IpAddr,
) -> ApiResult<Response> {
    let params = query(raw_query, &["board", "thread"])?;
    let Some(board) = params.get("board").map(|b| (*b).to_owned()) else {
        let message = "`board` is required, as in /api/live?board=b.";
        return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field("board"));
    };
    let thread = query_number(&params, "thread", 1)?;
    let last_event_id = match headers.get("last-event-id") {
        None => None,
        Some(value) => {
            let parsed = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
            Some(parsed.ok_or_else(|| {
                ApiError::new(
                    ErrorKind::InvalidType,
                    "Last-Event-ID must be an event id this server sent (a whole number).",
                )
                .with_field("Last-Event-ID")
            })?)
        }
    };

    let Some(slot) = app.live_streams.try_take(client) else {
        let message = format!(
            "This address already follows {} live streams, the most one client may; close one \
             or try again later.",
            app.config.max_streams_per_client
        );
        return Err(ApiError::new(ErrorKind::TooManyConnections, message)
            .with_retry_after(RETRY_AFTER_SECS));
    };

    // Follow before reading where to start, so nothing committed in between is missed.
    let follower = app.live.follow(Filter {
        board: board.clone(),
        thread,
    });
    let (board_ok, thread_state, latest) = {
        let (b, t) = (board.clone(), thread);
        app.read(move |r| {
            let board_ok = r.board(&b)?.is_some();
            let thread_state = match t {
                Some(t) => Some((r.thread_meta(&b, t)?.is_some(), r.tombstone(&b, t)?)),
                None => None,
            };
            Ok((board_ok, thread_state, r.last_event_id()?))
        })
        .await?
    };
    if !board_ok {
        return Err(ApiError::board_not_found(&board));
    }
    if let (Some(t), Some((false, tombstone))) = (thread, thread_state) {
        return Err(if tombstone == Some(t) {
            ApiError::thread_deleted(&board, t)
        } else {
            ApiError::thread_not_found(&board, t)
        });
    }

    let mut ready = VecDeque::new();
    // Browsers reconnect after this many milliseconds when the stream drops.
    ready.push_back(Bytes::from_static(b"retry: 3000\n\n"));
    let position = last_event_id.map_or(latest, |id| id.min(latest));
    let now = Instant::now();
    let end = now + Duration::from_secs(app.config.stream_max_secs);
    let next_heartbeat = now + HEARTBEAT;
    let body = LiveBody {
        app,
        follower,
        timer: Box::pin(sleep_until(next_heartbeat.min(end))),
        next_heartbeat,
        end,
        _slot: slot,
        position,
        replaying: last_event_id.is_some(),
        replay: None,
        ready,
        taken: VecDeque::new(),
        done: false,
    };
    let mut response = Response::new(body.boxed());
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // nginx would otherwise buffer the stream and deliver events late, in bunches.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

impl LiveBody {
    /// The next chunk from `ready`: its first frame, or as many as fit in [`CHUNK`] copied
    /// into one buffer, so that frames waiting together cost one write.
    fn next_chunk(&mut self) -> Option<Bytes> {
        let first = self.ready.pop_front()?;
        let more = self
            .ready
            .front()
            .is_some_and(|next| first.len() + next.len() <= CHUNK);
        if !more {
            return Some(first);
        }
        let mut chunk = BytesMut::with_capacity(
            CHUNK.min(self.ready.iter().map(Bytes::len).sum::<usize>() + first.len()),
        );
        chunk.extend_from_slice(&first);
        while let Some(next) = self.ready.front() {
            if chunk.len() + next.len() > CHUNK {
                break;
            }
            chunk.extend_from_slice(next);
            self.ready.pop_front();
        }
        Some(chunk.freeze())
    }

    /// Reads the next batch after `position` from the table, on a blocking thread.
    fn start_replay(&mut self) {
        let (app, after) = (self.app.clone(), self.position);
        self.replay = Some(tokio::spawn(async move {
            app.read(move |r| Ok((r.oldest_event_id()?, r.events_after(after, REPLAY_BATCH)?)))
                .await
        }));
    }

    /// Queues what a replay read; ends the replay when the table has nothing more.
    fn replayed(&mut self, oldest: Option<u64>, batch: Vec<Published>) {
        let after = self.position;
        if let Some(oldest) = oldest {
            if after + 1 < oldest {
                // Older events are no longer kept: say so, so the client reloads what it shows.
                let data = format!(
                    "{{\"event\":\"resync\",\"reason\":\"events after {after} are no longer kept\"}}"
                );
                self.ready
                    .push_back(Bytes::from(format!("event: resync\ndata: {data}\n\n")));
                self.position = oldest - 1;
                return;
            }
        }
        if batch.len() < REPLAY_BATCH {
            self.replaying = false;
        }
        for event in batch {
            self.position = event.id;
            if self.follower.filter().wants(&event.board, event.thread) {
                self.ready.push_back(event.frame);
            }
        }
    }
}

impl Body for LiveBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        loop {
            if let Some(chunk) = this.next_chunk() {
                return Poll::Ready(Some(Ok(Frame::data(chunk))));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(replay) = &mut this.replay {
                let read = match Pin::new(replay).poll(cx) {
                    Poll::Ready(read) => read,
                    Poll::Pending => return Poll::Pending,
                };
                this.replay = None;
                match read {
                    Ok(Ok((oldest, batch))) => this.replayed(oldest, batch),
                    Ok(Err(e)) => return Poll::Ready(Some(Err(std::io::Error::other(e.message)))),
                    Err(e) => return Poll::Ready(Some(Err(std::io::Error::other(e)))),
                }
                continue;
            }
            if this.replaying {
                this.start_replay();
                continue;
            }
            match this.follower.take(cx.waker(), &mut this.taken) {
                Taken::Frames => {
                    for event in this.taken.drain(..) {
                        // Ids up to `position` were sent by a replay already.
                        if event.id > this.position {
                            this.position = event.id;
                            this.ready.push_back(event.frame.clone());
                        }
                    }
                    continue;
                }
                // It stopped reading long enough to overflow: the table has everything.
                Taken::Lagged => {
                    this.replaying = true;
                    continue;
                }
                Taken::Closed => {
                    this.done = true;
                    continue;
                }
                Taken::Nothing => {}
            }
            if this.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if Instant::now() >= this.end {
                this.done = true;
                continue;
            }
            this.next_heartbeat += HEARTBEAT;
            let next = this.next_heartbeat.min(this.end);
            this.timer.as_mut().reset(next);
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                b": heartbeat\n\n",
            )))));
        }
    }
}
