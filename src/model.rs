//! The domain types that handlers and storage exchange; they are also the API's JSON shapes.

use serde::{Deserialize, Serialize};

use crate::config::BoardConfig;
use crate::markup;

/// A board and the limits a client needs to post on it.
///
/// Stored as JSON, and edited through the admin API (`crate::settings` holds each setting's
/// bounds); `serde(default)` lets rows written before a setting existed load with its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
    pub max_files: u32,
    pub require_file: bool,
    /// Config names of the image types taken: `jpeg`, `png`, `gif`, `webp`.
    pub allowed_types: Vec<String>,
    pub max_file_bytes: u64,
    pub max_post_bytes: u64,
    pub max_image_width: u32,
    pub max_image_height: u32,
    pub keep_file_names: bool,
    pub forced_anon: bool,
    pub poster_ids: bool,
    pub delete_window_secs: u64,
    pub archive_days: u32,
    pub show_in_recent: bool,
    pub max_quotes: u32,
    pub max_replies: u32,
    /// The board's rules as staff wrote them, in post markup.
    pub rules: String,
    /// `rules` rendered by the server's markup when they were set: safe HTML for the client.
    pub rules_html: String,
    /// Not safe for work: shown by clients, and 4chan's `ws_board` is 0.
    pub nsfw: bool,
    pub cooldown_threads_secs: u32,
    pub cooldown_replies_secs: u32,
    pub cooldown_images_secs: u32,
    pub duplicate_window_secs: u32,
    pub max_threads_per_minute: u32,
    /// Whether the board's public log (`GET /api/boards/{board}/modlog`) names the staff
    /// account behind each action; off, it says only what was done.
    pub public_log_names: bool,
    /// What posters must solve (`crate::antispam`): `off`, `pow`, `text` or `auto`.
    pub captcha: String,
}

impl Default for Board {
    fn default() -> Self {
        Board::from(&BoardConfig::default())
    }
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
            max_files: c.max_files,
            require_file: c.require_file,
            allowed_types: c.allowed_types.clone(),
            max_file_bytes: c.max_file_bytes,
            max_post_bytes: c.max_post_bytes,
            max_image_width: c.max_image_width,
            max_image_height: c.max_image_height,
            keep_file_names: c.keep_file_names,
            forced_anon: c.forced_anon,
            poster_ids: c.poster_ids,
            delete_window_secs: c.delete_window_secs,
            archive_days: c.archive_days,
            show_in_recent: c.show_in_recent,
            max_quotes: c.max_quotes,
            max_replies: c.max_replies,
            rules: c.rules.clone(),
            // Rendered when the board is written (the writer knows which links are live).
            rules_html: String::new(),
            nsfw: c.nsfw,
            cooldown_threads_secs: c.cooldown_threads_secs,
            cooldown_replies_secs: c.cooldown_replies_secs,
            cooldown_images_secs: c.cooldown_images_secs,
            duplicate_window_secs: c.duplicate_window_secs,
            max_threads_per_minute: c.max_threads_per_minute,
            public_log_names: c.public_log_names,
            captcha: c.captcha.clone(),
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
///
/// Serialized lean (the same for the API, live events and storage): a field that holds its
/// empty value (`null`, `[]`, `false`) is left out, and so is `html` when it is only the body's
/// text ([`markup::is_plain`]). Reading fills them back in, so old rows with every field load
/// the same as new ones.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "PostFields")]
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
    /// Attached files, in the order posted.
    pub files: Vec<PostFile>,
    /// Secure tripcode: `!!` and ten characters derived from the poster's secret.
    pub trip: Option<String>,
    /// Poster id, on boards that show them: the same poster within one thread.
    pub id: Option<String>,
    /// Later posts on the board that quote this one, in number order. Kept in the `backlinks`
    /// table, not in the stored post; filled in when the post is read.
    pub backlinks: Vec<u64>,
    /// Posts on other boards that quote this one (`>>>/b/12`), by board, then number.
    pub cross_backlinks: Vec<BoardPost>,
    /// The poster deleted the files and kept the post.
    pub files_deleted: bool,
    /// `admin` or `mod` when staff posted as staff; `None` for everyone else.
    pub capcode: Option<String>,
    /// The public mark staff put on a post its poster was banned for, also appended to `html`.
    pub banned_message: Option<String>,
}

/// [`Post`] as written: borrowed, with the fields a reader infers left out.
#[derive(Serialize)]
struct LeanPost<'a> {
    no: u64,
    thread: u64,
    board: &'a str,
    created_at: u64,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    body: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    html: Option<&'a str>,
    #[serde(skip_serializing_if = "is_false")]
    sage: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    files: &'a [PostFile],
    #[serde(skip_serializing_if = "Option::is_none")]
    trip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    backlinks: &'a [u64],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    cross_backlinks: &'a [BoardPost],
    #[serde(skip_serializing_if = "is_false")]
    files_deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    capcode: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    banned_message: Option<&'a str>,
}

impl Serialize for Post {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let html = (!markup::is_plain(&self.body, &self.html)).then_some(self.html.as_str());
        LeanPost {
            no: self.no,
            thread: self.thread,
            board: &self.board,
            created_at: self.created_at,
            name: &self.name,
            subject: self.subject.as_deref(),
            body: &self.body,
            html,
            sage: self.sage,
            files: &self.files,
            trip: self.trip.as_deref(),
            id: self.id.as_deref(),
            backlinks: &self.backlinks,
            cross_backlinks: &self.cross_backlinks,
            files_deleted: self.files_deleted,
            capcode: self.capcode.as_deref(),
            banned_message: self.banned_message.as_deref(),
        }
        .serialize(serializer)
    }
}

/// [`Post`] as read: every field but the first few may be absent.
#[derive(Deserialize)]
struct PostFields {
    no: u64,
    thread: u64,
    board: String,
    created_at: u64,
    name: String,
    #[serde(default)]
    subject: Option<String>,
    body: String,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    sage: bool,
    #[serde(default)]
    files: Vec<PostFile>,
    #[serde(default)]
    trip: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    backlinks: Vec<u64>,
    #[serde(default)]
    cross_backlinks: Vec<BoardPost>,
    #[serde(default)]
    files_deleted: bool,
    #[serde(default)]
    capcode: Option<String>,
    #[serde(default)]
    banned_message: Option<String>,
}

impl From<PostFields> for Post {
    fn from(p: PostFields) -> Post {
        Post {
            html: p.html.unwrap_or_else(|| markup::plain_html(&p.body)),
            no: p.no,
            thread: p.thread,
            board: p.board,
            created_at: p.created_at,
            name: p.name,
            subject: p.subject,
            body: p.body,
            sage: p.sage,
            files: p.files,
            trip: p.trip,
            id: p.id,
            backlinks: p.backlinks,
            cross_backlinks: p.cross_backlinks,
            files_deleted: p.files_deleted,
            capcode: p.capcode,
            banned_message: p.banned_message,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A post on a named board.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BoardPost {
    pub board: String,
    pub no: u64,
}

/// A file as shown with its post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostFile {
    /// `/files/ab/cd/<sha256>.<ext>`
    pub url: String,
    /// `/thumbs/ab/cd/<sha256>.webp`
    pub thumb_url: String,
    /// The uploader's file name as plain text, or `None` where the board drops names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub mime: String,
    /// Bytes of the stored original (after metadata stripping).
    pub size: u64,
    /// Upright pixels, as displayed.
    pub width: u32,
    pub height: u32,
    pub thumb_width: u32,
    pub thumb_height: u32,
    /// Hex SHA-256 of the stored original: its address on disk and in URLs.
    pub sha256: String,
    /// Base64 MD5 of the stored original, as 4chan-style clients expect.
    pub md5: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub spoiler: bool,
}

/// One stored file, shared by every post that carries the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub sha256: String,
    /// Extension of the original (`jpg`, `png`, `gif`, `webp`).
    pub ext: String,
    /// Extension of the thumbnail.
    pub thumb_ext: String,
    pub size: u64,
    /// Posts referring to it; the files go when this reaches zero.
    pub refs: u64,
    /// The perceptual hash of its thumbnail (`media::phash`); absent for files stored before
    /// the hash was kept (they are banned by exact hash only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhash: Option<u64>,
}

/// A post before the writer gives it a number and a time.
#[derive(Debug, Clone)]
pub struct PostDraft {
    pub name: String,
    pub subject: Option<String>,
    pub body: String,
    pub sage: bool,
    /// Files already on disk, with what the writer records for each.
    pub files: Vec<(PostFile, StoredFile)>,
    pub trip: Option<String>,
    /// The poster's key for ids on this board (a keyed hash of the board and the client
    /// address); the writer mixes in the thread number, known only once the post has one.
    pub id_key: Option<[u8; 32]>,
    /// Keyed hash of the deletion password, when one was given.
    pub password: Option<[u8; 32]>,
    /// `admin` or `mod`, already checked against the poster's role.
    pub capcode: Option<String>,
    /// Where the post came from, kept for staff (see [`PosterRecord`]); `None` for posts the
    /// server makes itself (tests, measurements).
    pub origin: Option<Origin>,
}

/// The client a post or report came from, as the writer records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub address: std::net::IpAddr,
    /// `Keys::cloak` of the address on the post's board.
    pub cloak: String,
}

/// What is stored about the poster of one post, for staff only: the address until the
/// retention time erases it (`ip_retention_days`), the cloak for as long as the post exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosterRecord {
    /// `None` once erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<std::net::IpAddr>,
    pub cloak: String,
    /// The board `cloak` was made on, when not the post's: its thread was moved after the
    /// address was erased, so the cloak on the new board could not be computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloak_board: Option<String>,
    /// Unix seconds when the post was written.
    pub at: u64,
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
    /// Files in the replies (the OP's are not counted, as on other imageboards).
    pub images: u32,
    /// Unix seconds of the last bump (the OP's time until a reply bumps it).
    pub bumped_at: u64,
    /// Orders live threads: the number of the post that last bumped the thread. Numbers only
    /// grow, so a higher key is a more recent bump, and no two threads share one.
    pub bump_key: u64,
    /// Where a sticky thread stands among the board's stickies: lower first, ties by bump.
    /// Rows written before it existed read 0.
    #[serde(default)]
    pub sticky_order: u32,
    /// Past the bump limit, each reply drops the oldest replies (never the OP), so the thread
    /// keeps its length and stays live.
    #[serde(default)]
    pub cyclical: bool,
}

/// A durable job for the S3 backup, written in the same transaction as the change that caused
/// it and removed once done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxJob {
    pub op: OutboxOp,
    pub sha256: String,
    pub ext: String,
    pub thumb_ext: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxOp {
    /// Copy the original and its thumbnail to the bucket.
    Upload,
    /// No post carries the file any more: move its objects under `trash/`.
    Trash,
}

/// One entry of the staff log: who changed what, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its place in the log; ids only grow.
    #[serde(default)]
    pub id: u64,
    /// Unix seconds.
    pub at: u64,
    /// The staff account's username; `None` for the server itself (a board seeded from config).
    pub actor: Option<String>,
    pub action: LogAction,
    pub board: Option<String>,
    /// What changed: a new board's settings, or each changed setting's `old` and `new` value.
    pub change: serde_json::Value,
    /// The reason given to the public, which a board's public log shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A note for staff only, never in a public view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogAction {
    BoardCreate,
    BoardUpdate,
    BoardDelete,
    /// Staff deleted a post (an OP: its thread); `change` is `{"no", "thread"}`.
    PostDelete,
    /// Staff deleted a post's files and kept the post; `change` is `{"no", "thread", "files"}`.
    FilesDelete,
    /// Staff deleted the posts of one poster, in a thread or on a board; `change` is
    /// `{"no", "cloak", "scope", "nos", "more"}` (`no` the post chosen, `nos` those deleted).
    PosterDelete,
    /// Staff dismissed the reports on a post; `change` is `{"no", "reports"}`.
    ReportDismiss,
    ThreadSticky,
    ThreadLock,
    ThreadCyclic,
    ThreadMove,
    /// An admin removed a user's second factor (a lost authenticator).
    TotpClear,
    FileBan,
    FileUnban,
    FilterCreate,
    FilterUpdate,
    FilterDelete,
    /// A ban given (`reason` public, `note` private; the address never in `change`).
    Ban,
    /// A ban lifted before its time.
    BanLift,
    /// An appeal accepted: its ban ends.
    AppealAccept,
    /// An appeal denied, with the answer the poster reads.
    AppealDeny,
}

/// Why a post is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportCategory {
    /// Breaks the board's rules.
    Rule,
    /// Illegal content.
    Illegal,
    Spam,
    Other,
}

impl ReportCategory {
    pub const ALL: [ReportCategory; 4] = [
        ReportCategory::Rule,
        ReportCategory::Illegal,
        ReportCategory::Spam,
        ReportCategory::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReportCategory::Rule => "rule",
            ReportCategory::Illegal => "illegal",
            ReportCategory::Spam => "spam",
            ReportCategory::Other => "other",
        }
    }
}

/// One report of a post, as stored and as staff see it (admins only see `address`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub category: ReportCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The reporter's cloak on the post's board: one report per post per cloak.
    pub cloak: String,
    /// As [`PosterRecord::cloak_board`]: set when the post's thread moved after the
    /// reporter's address was erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloak_board: Option<String>,
    /// The reporter's address, until `ip_retention_days` erases it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<std::net::IpAddr>,
    /// Unix seconds.
    pub at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post() -> Post {
        Post {
            no: 2,
            thread: 1,
            board: "b".into(),
            created_at: 1_700_000_000,
            name: "Anonymous".into(),
            subject: None,
            body: "a < b\nc".into(),
            html: "a &lt; b<br>c".into(),
            sage: false,
            files: Vec::new(),
            trip: None,
            id: None,
            backlinks: Vec::new(),
            cross_backlinks: Vec::new(),
            files_deleted: false,
            capcode: None,
            banned_message: None,
        }
    }

    #[test]
    fn posts_leave_out_what_a_reader_infers_and_read_back_whole() {
        let file = PostFile {
            url: "/files/x".into(),
            thumb_url: "/thumbs/x".into(),
            name: None,
            mime: "image/png".into(),
            size: 1,
            width: 1,
            height: 1,
            thumb_width: 1,
            thumb_height: 1,
            sha256: "s".into(),
            md5: "m".into(),
            spoiler: false,
        };
        let full = Post {
            subject: Some("s".into()),
            html: "<em>a</em>".into(),
            sage: true,
            files: vec![PostFile {
                name: Some("f.png".into()),
                spoiler: true,
                ..file.clone()
            }],
            trip: Some("!!abcdefghij".into()),
            id: Some("abcdefgh".into()),
            backlinks: vec![3],
            cross_backlinks: vec![BoardPost {
                board: "a".into(),
                no: 4,
            }],
            files_deleted: true,
            capcode: Some("mod".into()),
            banned_message: Some("(USER WAS BANNED FOR THIS POST)".into()),
            ..post()
        };
        let with_file = Post {
            files: vec![file],
            ..post()
        };
        let cases: [(Post, &[&str]); 3] = [
            (
                post(),
                &["no", "thread", "board", "created_at", "name", "body"],
            ),
            (
                full.clone(),
                &[
                    "no",
                    "thread",
                    "board",
                    "created_at",
                    "name",
                    "subject",
                    "body",
                    "html",
                    "sage",
                    "files",
                    "trip",
                    "id",
                    "backlinks",
                    "cross_backlinks",
                    "files_deleted",
                    "capcode",
                    "banned_message",
                ],
            ),
            (
                with_file.clone(),
                &[
                    "no",
                    "thread",
                    "board",
                    "created_at",
                    "name",
                    "body",
                    "files",
                ],
            ),
        ];
        for (post, keys) in cases {
            let json = serde_json::to_value(&post).unwrap();
            let got: Vec<&str> = json
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            let mut want = keys.to_vec();
            want.sort_unstable();
            let mut got_sorted = got.clone();
            got_sorted.sort_unstable();
            assert_eq!(got_sorted, want, "{json}");
            let back: Post = serde_json::from_value(json).unwrap();
            assert_eq!(back, post);
        }
        let json = serde_json::to_value(&with_file).unwrap();
        let keys: Vec<&String> = json["files"][0].as_object().unwrap().keys().collect();
        assert!(
            !keys.iter().any(|k| *k == "name" || *k == "spoiler"),
            "{keys:?}"
        );
        assert_eq!(json["files"][0].as_object().unwrap().len(), 10);
    }

    #[test]
    fn rows_written_with_every_field_still_read() {
        let old = serde_json::json!({
            "no": 2, "thread": 1, "board": "b", "created_at": 1_700_000_000u64,
            "name": "Anonymous", "subject": null, "body": "a < b\nc", "html": "a &lt; b<br>c",
            "sage": false, "files": [], "trip": null, "id": null, "backlinks": [],
            "cross_backlinks": [], "files_deleted": false
        });
        assert_eq!(serde_json::from_value::<Post>(old).unwrap(), post());
    }
}
