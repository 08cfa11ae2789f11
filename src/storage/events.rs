//! The stored form of live events: a post event names its post instead of copying it.

use serde::{Deserialize, Serialize};

use crate::live::Event;

/// One row of the `events` table.
///
/// A `thread` or `post` event carried the whole post, so the log held a second copy of every
/// post, and of every post each quote re-sent. Stored as a reference it costs a few bytes;
/// replaying it reads the post as it is now (an event for a post deleted since is skipped: its
/// `delete` event follows in the log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredEvent {
    /// A `thread` event: `(board, thread)`.
    Thread(String, u64),
    /// A `post` event: `(board, thread, no)`.
    Post(String, u64, u64),
    /// Any other event, stored whole (they are small).
    Other(Event),
}

impl StoredEvent {
    /// What to store for `event`.
    pub fn of(event: &Event) -> StoredEvent {
        let no = |post: &serde_json::Value| post.get("no").and_then(serde_json::Value::as_u64);
        match event {
            Event::Thread {
                board,
                thread,
                post,
            } if no(post) == Some(*thread) => StoredEvent::Thread(board.clone(), *thread),
            Event::Post {
                board,
                thread,
                post,
            } => match no(post) {
                Some(no) => StoredEvent::Post(board.clone(), *thread, no),
                None => StoredEvent::Other(event.clone()),
            },
            other => StoredEvent::Other(other.clone()),
        }
    }

    /// Parses a row written by this schema, or (during the migration) by version 1, which stored
    /// the [`Event`] itself.
    pub fn parse(bytes: &[u8]) -> Result<StoredEvent, serde_json::Error> {
        serde_json::from_slice(bytes)
            .or_else(|_| serde_json::from_slice::<Event>(bytes).map(|e| StoredEvent::of(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn post_events_become_references_and_others_stay_whole() {
        let post = json!({ "no": 5, "thread": 1, "body": "x".repeat(4000) });
        let op = json!({ "no": 1, "thread": 1 });
        let delete = Event::Delete {
            board: "a".into(),
            thread: 1,
            no: 5,
        };
        let cases = [
            (
                Event::Post {
                    board: "a".into(),
                    thread: 1,
                    post: post.clone(),
                },
                StoredEvent::Post("a".into(), 1, 5),
            ),
            (
                Event::Thread {
                    board: "a".into(),
                    thread: 1,
                    post: op,
                },
                StoredEvent::Thread("a".into(), 1),
            ),
            (delete.clone(), StoredEvent::Other(delete)),
        ];
        for (event, want) in cases {
            let stored = StoredEvent::of(&event);
            assert_eq!(stored, want);
            let bytes = serde_json::to_vec(&stored).unwrap();
            assert!(bytes.len() < 100, "{} bytes stored", bytes.len());
            assert_eq!(StoredEvent::parse(&bytes).unwrap(), want);
            // A version 1 row (the event itself) parses to the same reference.
            let v1 = serde_json::to_vec(&event).unwrap();
            assert_eq!(StoredEvent::parse(&v1).unwrap(), want);
        }
    }
}
