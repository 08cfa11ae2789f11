//! Live updates over Server-Sent Events: committed changes as numbered events, published after
//! the commit, replayed from the database for a client that reconnects or falls behind.
//!
//! Every event is written to the `events` table in the transaction of the change it reports,
//! with the next number of one global sequence: that number is the SSE `id`. After the commit,
//! once its requests are answered, the writer's listener hands the events to [`Hub::publish`],
//! which only queues them for the hub's fan-out thread: waking every subscriber costs time in
//! proportion to their number, and neither the writer nor the answers wait for it (the events
//! are durable in the table already). The fan-out thread puts each event, framed once as SSE
//! bytes shared by every subscriber, into the mailbox of each subscriber of its board that
//! wants it, and wakes that subscriber's connection (`hub`). A subscriber registers first,
//! then replays from the table what came after its `Last-Event-ID`, then takes its mailbox,
//! skipping ids it has sent: no gap, no duplicate. A subscriber whose mailbox overflows (it
//! stopped reading) replays from the table again instead of being dropped, so it holds at most
//! one mailbox or one replay batch of frames of its own.

mod hub;
mod reports;
mod stream;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::model::BoardPost;

pub use hub::Hub;
pub use reports::{subscribe_counts, ReportSignal};
pub use stream::subscribe;

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

#[cfg(test)]
mod tests {
    use super::*;

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
