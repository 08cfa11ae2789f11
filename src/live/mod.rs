//! Live updates over Server-Sent Events: committed changes as numbered events, published after
//! the commit, replayed from the database for a client that reconnects or falls behind.
//!
//! Every event is written to the `events` table in the transaction of the change it reports,
//! with the next number of one global sequence: that number is the SSE `id`. After the commit,
//! once its requests are answered, the writer's listener hands the events to [`Hub::publish`],
//! which only queues them for the hub's fan-out thread: waking every subscriber costs time in
//! proportion to their number, and neither the writer nor the answers wait for it (the events
//! are durable in the table already). The fan-out thread sends each event, framed once as SSE
//! bytes shared by every subscriber, on a broadcast channel. A subscriber subscribes first,
//! then replays from the table what came after its `Last-Event-ID`, then follows the channel,
//! skipping ids it has sent: no gap, no duplicate. A subscriber that falls behind the channel
//! replays from the table again instead of being dropped, so it holds at most one replay batch
//! of frames of its own.

mod reports;
mod stream;

use std::sync::{mpsc, Arc};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::model::BoardPost;

pub use reports::{subscribe_counts, ReportSignal};
pub use stream::subscribe;

/// Events the channel holds for slow subscribers before they must replay from the table.
const CHANNEL: usize = 4096;

/// What happened. Serialized into the `events` table and, as `data`, to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A new thread: its opening post.
    Thread {
        board: String,
        thread: u64,
        post: serde_json::Value,
    },
    /// A new reply, or a post that changed (re-rendered links, deleted files): the whole post.
    Post {
        board: String,
        thread: u64,
        post: serde_json::Value,
    },
    /// Posts `nos` of `thread` on `board` were quoted by the new post `from`: each gains it as
    /// a backlink. Sent instead of the quoted posts themselves, so a quote costs a few bytes
    /// whatever the quoted post holds; one event per quoted thread.
    Backlinks {
        board: String,
        thread: u64,
        nos: Vec<u64>,
        from: QuotedFrom,
    },
    /// A post is deleted; `no == thread` means the whole thread is. Its thread's subscribers
    /// draw their links to it dead themselves.
    Delete { board: String, thread: u64, no: u64 },
    /// Posts of `thread` on `board` link to `target`, a post of another thread that was just
    /// deleted: those links are dead now. One event per such thread; the quoting posts are not
    /// sent again, so a deletion costs a few bytes per quoting thread whatever they hold.
    Unlinked {
        board: String,
        thread: u64,
        target: BoardPost,
    },
    /// A board's settings changed (read them again), or the board was deleted. Sent to every
    /// subscriber of the board, whatever thread it follows.
    Board { board: String, deleted: bool },
    /// A thread's state changed: staff made it sticky, locked or cyclical, it was archived, or
    /// it moved to another board (`moved_to`: where it lives now; the old numbers answer with
    /// a redirect from then on).
    Update {
        board: String,
        thread: u64,
        sticky: bool,
        locked: bool,
        archived: bool,
        /// Events stored before the field existed read false.
        #[serde(default)]
        cyclical: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        moved_to: Option<MovedTo>,
    },
}

/// Where a moved thread lives now, in an [`Event::Update`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedTo {
    pub board: String,
    pub thread: u64,
}

/// The post that quoted, in a [`Event::Backlinks`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedFrom {
    pub board: String,
    pub thread: u64,
    pub no: u64,
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Thread { .. } => "thread",
            Event::Post { .. } => "post",
            Event::Backlinks { .. } => "backlinks",
            Event::Delete { .. } => "delete",
            Event::Unlinked { .. } => "unlinked",
            Event::Update { .. } => "update",
            Event::Board { .. } => "board",
        }
    }

    pub fn board(&self) -> &str {
        match self {
            Event::Thread { board, .. }
            | Event::Post { board, .. }
            | Event::Backlinks { board, .. }
            | Event::Delete { board, .. }
            | Event::Unlinked { board, .. }
            | Event::Update { board, .. }
            | Event::Board { board, .. } => board,
        }
    }

    pub fn thread(&self) -> u64 {
        match self {
            Event::Thread { thread, .. }
            | Event::Post { thread, .. }
            | Event::Backlinks { thread, .. }
            | Event::Delete { thread, .. }
            | Event::Unlinked { thread, .. }
            | Event::Update { thread, .. } => *thread,
            // Board-wide.
            Event::Board { .. } => 0,
        }
    }
}

/// A committed event with its id, framed once for every subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: u64,
    pub board: String,
    pub thread: u64,
    pub frame: Bytes,
}

impl Published {
    pub fn new(id: u64, event: &Event) -> Published {
        Published {
            id,
            board: event.board().to_owned(),
            thread: event.thread(),
            frame: frame(id, event),
        }
    }
}

/// One SSE message: `id`, `event` and one `data` line (JSON has no raw newlines).
fn frame(id: u64, event: &Event) -> Bytes {
    let data = serde_json::to_string(event).expect("events serialize");
    Bytes::from(format!(
        "id: {id}\nevent: {}\ndata: {data}\n\n",
        event.name()
    ))
}

/// The broadcast side, shared by the writer's listener and every subscriber.
pub struct Hub {
    tx: broadcast::Sender<Arc<Published>>,
    /// To the fan-out thread, in commit order. Unbounded, but it only holds what the writer
    /// committed while the thread was waking subscribers: a send costs the thread one wake per
    /// waiting subscriber, far less than a commit costs the writer.
    queue: mpsc::Sender<Published>,
    closing: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    /// Starts the fan-out thread; it ends when the hub is dropped.
    pub fn new() -> Hub {
        let (tx, _) = broadcast::channel(CHANNEL);
        let (closing, _) = watch::channel(false);
        let (queue, queued) = mpsc::channel::<Published>();
        let fan_out = tx.clone();
        std::thread::Builder::new()
            .name("wani-live".into())
            .spawn(move || {
                for event in queued {
                    // No subscriber is not an error.
                    let _ = fan_out.send(Arc::new(event));
                }
            })
            .expect("spawning the live fan-out thread");
        Hub { tx, queue, closing }
    }

    /// Called after a commit: queues the events for the fan-out thread and returns at once.
    pub fn publish(&self, events: impl IntoIterator<Item = Published>) {
        for event in events {
            // The thread ends only with the hub.
            let _ = self.queue.send(event);
        }
    }

    /// Ends every stream, so shutdown need not wait for subscribers to hang up.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delete(id: u64) -> Published {
        let event = Event::Delete {
            board: "b".into(),
            thread: 1,
            no: id,
        };
        Published::new(id, &event)
    }

    #[test]
    fn publishing_never_waits_for_subscribers_and_keeps_commit_order() {
        let hub = Hub::new();
        let mut stalled = hub.tx.subscribe();
        let mut reader = hub.tx.subscribe();
        // Far more than the channel holds, with one subscriber that never reads while they are
        // published: publish returns every time, from a thread outside any runtime, as the
        // writer's does.
        let total = CHANNEL as u64 * 2;
        for id in 1..=total {
            hub.publish([delete(id)]);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut next = 1;
            while next <= total {
                match reader.recv().await {
                    Ok(event) => {
                        assert_eq!(event.id, next, "in commit order, none missing");
                        next += 1;
                    }
                    // This reader is slower than the fan-out thread: it resumes at the oldest
                    // the channel still holds, as a stream would after replaying the table.
                    Err(broadcast::error::RecvError::Lagged(missed)) => next += missed,
                    Err(e) => panic!("{e}"),
                }
            }
            // The stalled one lagged instead of holding anything up, and finds the newest
            // events still in the channel.
            assert!(matches!(
                stalled.recv().await,
                Err(broadcast::error::RecvError::Lagged(_))
            ));
            let mut last = 0;
            while let Ok(event) = stalled.try_recv() {
                assert!(event.id > last);
                last = event.id;
            }
            assert_eq!(last, total);
        });
    }

    #[test]
    fn frames_are_one_sse_message() {
        let event = Event::Delete {
            board: "b".into(),
            thread: 1,
            no: 2,
        };
        let published = Published::new(7, &event);
        assert_eq!(
            &published.frame[..],
            b"id: 7\nevent: delete\ndata: {\"event\":\"delete\",\"board\":\"b\",\"thread\":1,\"no\":2}\n\n"
        );
        let text = serde_json::to_string(&Event::Post {
            board: "b".into(),
            thread: 1,
            post: serde_json::json!({"body": "two\nlines"}),
        })
        .unwrap();
        assert!(!text.contains('\n'), "a data line never breaks: {text}");
    }
}
