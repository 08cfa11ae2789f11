//! One subscriber's event stream: replay from the `events` table, then the broadcast channel.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::HeaderMap;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio::time::{interval_at, sleep_until, Instant, Interval, Sleep};

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

/// What a subscriber follows.
#[derive(Clone)]
struct Filter {
    board: String,
    thread: Option<u64>,
}

impl Filter {
    fn wants(&self, board: &str, thread: u64) -> bool {
        // Thread 0 is a board-wide event, for every subscriber of the board.
        board == self.board && (thread == 0 || self.thread.is_none_or(|t| t == thread))
    }
}

struct State {
    app: Arc<App>,
    filter: Filter,
    rx: broadcast::Receiver<Arc<Published>>,
    closing: watch::Receiver<bool>,
    heartbeat: Interval,
    /// The stream ends here; the client resumes with `Last-Event-ID`.
    lifetime: Pin<Box<Sleep>>,
    /// The client's claim on one of its streams, given back when the stream ends.
    _slot: Slot,
    /// The last event id this stream has dealt with (sent or filtered out).
    position: u64,
    /// The table may hold events after `position` that the channel will not deliver.
    replaying: bool,
    ready: VecDeque<Bytes>,
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

    // Subscribe before reading where to start, so nothing committed in between is missed.
    let rx = app.live.tx.subscribe();
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
    let lifetime = Instant::now() + std::time::Duration::from_secs(app.config.stream_max_secs);
    let state = State {
        closing: app.live.closing.subscribe(),
        lifetime: Box::pin(sleep_until(lifetime)),
        _slot: slot,
        app,
        filter: Filter { board, thread },
        rx,
        heartbeat: interval_at(Instant::now() + HEARTBEAT, HEARTBEAT),
        position,
        replaying: last_event_id.is_some(),
        ready,
    };
    let stream = futures_util::stream::unfold(state, next);
    let mut response = Response::new(StreamBody::new(stream).boxed());
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // nginx would otherwise buffer the stream and deliver events late, in bunches.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

type Item = Result<Frame<Bytes>, std::io::Error>;

async fn next(mut state: State) -> Option<(Item, State)> {
    loop {
        if let Some(bytes) = state.ready.pop_front() {
            return Some((Ok(Frame::data(bytes)), state));
        }
        if *state.closing.borrow() {
            return None;
        }
        if state.replaying {
            if let Err(e) = replay(&mut state).await {
                return Some((Err(std::io::Error::other(e.message)), state));
            }
            continue;
        }
        tokio::select! {
            received = state.rx.recv() => match received {
                Ok(event) => {
                    if event.id <= state.position {
                        continue; // already sent during a replay
                    }
                    state.position = event.id;
                    if state.filter.wants(&event.board, event.thread) {
                        return Some((Ok(Frame::data(event.frame.clone())), state));
                    }
                }
                // Fell behind the channel: the table has everything, read it from there.
                Err(RecvError::Lagged(_)) => state.replaying = true,
                Err(RecvError::Closed) => return None,
            },
            _ = state.heartbeat.tick() => {
                return Some((Ok(Frame::data(Bytes::from_static(b": heartbeat\n\n"))), state));
            }
            _ = state.closing.changed() => return None,
            () = state.lifetime.as_mut() => return None,
        }
    }
}

/// Reads the next batch after `position` from the table into `ready`; ends the replay when
/// the table has nothing more.
async fn replay(state: &mut State) -> ApiResult<()> {
    let after = state.position;
    let (oldest, batch) = state
        .app
        .read(move |r| Ok((r.oldest_event_id()?, r.events_after(after, REPLAY_BATCH)?)))
        .await?;
    if let Some(oldest) = oldest {
        if after + 1 < oldest {
            // Older events are no longer kept: say so, so the client reloads what it shows.
            let data = format!(
                "{{\"event\":\"resync\",\"reason\":\"events after {after} are no longer kept\"}}"
            );
            state
                .ready
                .push_back(Bytes::from(format!("event: resync\ndata: {data}\n\n")));
            state.position = oldest - 1;
            return Ok(());
        }
    }
    if batch.len() < REPLAY_BATCH {
        state.replaying = false;
    }
    for event in batch {
        state.position = event.id;
        if state.filter.wants(&event.board, event.thread) {
            state.ready.push_back(event.frame);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Filter;

    #[test]
    fn board_wide_events_reach_every_subscriber_of_the_board() {
        let board = Filter {
            board: "b".into(),
            thread: None,
        };
        let thread = Filter {
            board: "b".into(),
            thread: Some(7),
        };
        // (board, thread of the event) → (board subscriber wants it, thread subscriber wants it)
        let cases = [
            (("b", 7), (true, true)),
            (("b", 8), (true, false)),
            (("b", 0), (true, true)),
            (("c", 0), (false, false)),
            (("c", 7), (false, false)),
        ];
        for ((b, t), expected) in cases {
            assert_eq!((board.wants(b, t), thread.wants(b, t)), expected, "{b} {t}");
        }
    }
}
