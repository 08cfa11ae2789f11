//! The domain types that handlers and storage exchange; they are also the API's JSON shapes.

use serde::{Deserialize, Serialize};

use crate::config::BoardConfig;

/// A board and the limits a client needs to post on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub bump_limit: u32,
    pub thread_limit: u32,
    pub threads_per_page: u32,
    pub max_body_chars: u32,
    pub max_subject_chars: u32,
    pub max_name_chars: u32,
}

impl From<&BoardConfig> for Board {
    fn from(c: &BoardConfig) -> Self {
        Board {
            slug: c.slug.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            bump_limit: c.bump_limit,
            thread_limit: c.thread_limit,
            threads_per_page: c.threads_per_page,
            max_body_chars: c.max_body_chars,
            max_subject_chars: c.max_subject_chars,
            max_name_chars: c.max_name_chars,
        }
    }
}

impl Board {
    /// Whether a reply bumps its thread: not when sage, not once the thread has `bump_limit`
    /// replies. `replies` counts the thread's replies before this one.
    pub fn reply_bumps(&self, replies: u32, sage: bool) -> bool {
        !sage && replies < self.bump_limit
    }
}

/// One post, as stored and as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub no: u64,
    /// The number of the thread's opening post; equal to `no` for an OP.
    pub thread: u64,
    pub board: String,
    /// Unix seconds.
    pub created_at: u64,
    pub name: String,
    /// Only an OP has one.
    pub subject: Option<String>,
    /// Exactly what the poster wrote.
    pub body: String,
    /// Safe HTML for display, rendered at write time.
    pub html: String,
    pub sage: bool,
}

/// A post before the writer gives it a number and a time.
#[derive(Debug, Clone)]
pub struct PostDraft {
    pub name: String,
    pub subject: Option<String>,
    pub body: String,
    pub html: String,
    pub sage: bool,
}

/// The state of a thread apart from its posts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadMeta {
    pub no: u64,
    pub sticky: bool,
    pub locked: bool,
    pub archived: bool,
    /// Unix seconds when it left the live list; `None` while live.
    pub archived_at: Option<u64>,
    pub replies: u32,
    pub images: u32,
    /// Unix seconds of the last bump (the OP's time until a reply bumps it).
    pub bumped_at: u64,
    /// Orders live threads: the number of the post that last bumped the thread. Numbers only
    /// grow, so a higher key is a more recent bump, and no two threads share one.
    pub bump_key: u64,
}
