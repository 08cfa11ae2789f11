//! The 4chan post object: a wani post in 4chan's field names, types and omissions.
//!
//! 4chan leaves out every field that does not apply (no file fields on a text post, `sub` only
//! when set, flags only when true), so each optional field here is skipped when `None`. Text
//! fields (`name`, `sub`, `filename`, `com`) are HTML, escaped as 4chan escapes them.

use std::cell::RefCell;

use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::markup::{self, Dialect, Resolve};
use crate::model::{Board, Post, PostFile, ThreadMeta};
use crate::storage::Reader;

/// `tim` numbers files per post: file `i` of post `no` is `no * TIM_FILES + i`. Unique on a
/// board because post numbers are; `max_files` is at most 32, so an index always fits.
pub const TIM_FILES: u64 = 100;

/// The longest `semantic_url`, in characters; it is cut at a word boundary.
const SEMANTIC_URL_CHARS: usize = 50;

/// The `tim` of file `index` of post `no`.
pub fn tim(no: u64, index: usize) -> u64 {
    no.saturating_mul(TIM_FILES) + index as u64
}

/// The post number and file index a `tim` names.
pub fn split_tim(tim: u64) -> (u64, usize) {
    (tim / TIM_FILES, (tim % TIM_FILES) as usize)
}

/// A post as 4chan serves it.
#[derive(Debug, Serialize)]
pub struct FourPost {
    pub no: u64,
    /// The thread replied to; 0 for an opening post.
    pub resto: u64,
    pub now: String,
    pub time: u64,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `admin` or `mod` for a post made as staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub com: Option<String>,
    /// The first file's fields, at the top level as 4chan has them.
    #[serde(flatten)]
    pub file: Option<FourFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filedeleted: Option<u8>,
    /// vichan's files after the first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_files: Vec<FourFile>,
    #[serde(flatten)]
    pub op: Option<OpFields>,
}

/// A file's fields.
#[derive(Debug, Serialize)]
pub struct FourFile {
    pub tim: u64,
    /// The uploader's name without its extension (the `tim` where the board drops names).
    pub filename: String,
    /// `.jpg`, `.png`, `.gif`, `.webp`, `.webm` or `.mp4`.
    pub ext: String,
    pub fsize: u64,
    /// Base64 MD5 of the stored bytes.
    pub md5: String,
    pub w: u32,
    pub h: u32,
    pub tn_w: u32,
    pub tn_h: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spoiler: Option<u8>,
}

/// What only an opening post carries.
#[derive(Debug, Serialize)]
pub struct OpFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sticky: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_on: Option<u64>,
    pub replies: u32,
    pub images: u32,
    pub bumplimit: u8,
    /// wani has no image limit: always 0.
    pub imagelimit: u8,
    pub semantic_url: String,
    pub last_modified: u64,
    /// Index pages and the catalog only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omitted_posts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omitted_images: Option<u32>,
    /// The catalog only, when the thread has replies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_replies: Option<Vec<FourPost>>,
}

/// The thread state an opening post shows.
pub struct OpState<'a> {
    pub meta: &'a ThreadMeta,
    pub board: &'a Board,
    pub last_modified: u64,
}

/// Renders links against the snapshot being read; a storage failure is kept to be returned
/// once the rendering is done (the markup resolver itself cannot fail).
pub struct Links<'a> {
    reader: &'a Reader,
    failure: RefCell<Option<ApiError>>,
}

impl<'a> Links<'a> {
    pub fn new(reader: &'a Reader) -> Self {
        Links {
            reader,
            failure: RefCell::new(None),
        }
    }

    fn keep<T>(&self, result: ApiResult<Option<T>>) -> Option<T> {
        result.unwrap_or_else(|e| {
            self.failure.borrow_mut().get_or_insert(e);
            None
        })
    }

    /// The first storage failure met while resolving links, if any.
    pub fn check(&self) -> ApiResult<()> {
        match self.failure.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Resolve for Links<'_> {
    fn post_thread(&self, board: &str, no: u64) -> Option<u64> {
        self.keep(self.reader.post_thread(board, no))
    }

    fn board_exists(&self, board: &str) -> bool {
        self.keep(self.reader.board(board)).is_some()
    }

    fn max_links(&self, board: &str) -> usize {
        self.keep(self.reader.board(board))
            .map_or(0, |b| b.max_quotes as usize)
    }
}

/// `post` as 4chan serves it; `op` for an opening post.
pub fn four_post(post: &Post, links: &Links<'_>, op: Option<OpState<'_>>) -> FourPost {
    let four = Dialect::FourChan {
        thread: post.thread,
    };
    let mut com = markup::render_dialect(&post.body, &post.board, links, four).html;
    if let Some(message) = &post.banned_message {
        com.push_str(&markup::banned_mark(message, four));
    }
    let mut files = post
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| four_file(f, tim(post.no, i)));
    let file = files.next();
    FourPost {
        no: post.no,
        resto: if post.no == post.thread {
            0
        } else {
            post.thread
        },
        now: now(post.created_at),
        time: post.created_at,
        name: markup::escape(&post.name, four),
        trip: post.trip.as_ref().map(|t| markup::escape(t, four)),
        id: post.id.as_ref().map(|t| markup::escape(t, four)),
        capcode: post.capcode.clone(),
        sub: post.subject.as_ref().map(|s| markup::escape(s, four)),
        com: (!com.is_empty()).then_some(com),
        file,
        filedeleted: (post.files_deleted && post.files.is_empty()).then_some(1),
        extra_files: files.collect(),
        op: op.map(|state| OpFields {
            sticky: state.meta.sticky.then_some(1),
            // An archived thread takes no replies either, and 4chan marks it closed too.
            closed: (state.meta.locked || state.meta.archived).then_some(1),
            archived: state.meta.archived.then_some(1),
            archived_on: state.meta.archived_at.filter(|_| state.meta.archived),
            replies: state.meta.replies,
            images: state.meta.images,
            bumplimit: u8::from(state.meta.replies >= state.board.bump_limit),
            imagelimit: 0,
            semantic_url: semantic_url(post.subject.as_deref().unwrap_or(&post.body)),
            last_modified: state.last_modified,
            omitted_posts: None,
            omitted_images: None,
            last_replies: None,
        }),
    }
}

fn four_file(file: &PostFile, tim: u64) -> FourFile {
    let ext = file
        .url
        .rsplit_once('.')
        .map_or(String::new(), |(_, ext)| format!(".{ext}"));
    let four = Dialect::FourChan { thread: 0 };
    let filename = match &file.name {
        Some(name) => markup::escape(strip_extension(name), four),
        None => tim.to_string(),
    };
    FourFile {
        tim,
        filename,
        ext,
        fsize: file.size,
        md5: file.md5.clone(),
        w: file.width,
        h: file.height,
        tn_w: file.thumb_width,
        tn_h: file.thumb_height,
        spoiler: file.spoiler.then_some(1),
    }
}

/// `holiday.jpg` → `holiday`; a name that is only an extension (`.jpg`) stays whole.
fn strip_extension(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    }
}

/// 4chan's `now`: `MM/DD/YY(Day)HH:MM:SS`. 4chan writes New York time; wani writes UTC, which
/// needs no time zone table and is the same on every server.
pub fn now(unix: u64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let days = unix / 86_400;
    let secs = unix % 86_400;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = DAYS[((days + 4) % 7) as usize];
    format!(
        "{month:02}/{day:02}/{:02}({weekday}){:02}:{:02}:{:02}",
        year % 100,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A thread's URL slug as 4chan makes it: the first [`SEMANTIC_URL_CHARS`] characters of the
/// subject (or the comment), without a word cut in half, lowercased, its ASCII letters and
/// digits in words joined by `-`, apostrophes dropped (`Let's` → `lets`).
pub fn semantic_url(text: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '\'' || c == '’';
    let mut head: &str = text;
    if let Some((cut, next)) = text.char_indices().nth(SEMANTIC_URL_CHARS) {
        head = &text[..cut];
        if word(next) {
            // Drop the word the cut went through, unless it is the only one.
            if let Some((i, _)) = head.char_indices().rev().find(|&(_, c)| !word(c)) {
                head = &head[..i];
            }
        }
    }
    let words: Vec<String> = head
        .split(|c: char| !word(c))
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    words.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_4chans_format_in_utc() {
        let cases = [
            (0, "01/01/70(Thu)00:00:00"),
            (1_546_293_948, "12/31/18(Mon)22:05:48"),
            (1_566_507_531, "08/22/19(Thu)20:58:51"),
            (951_782_400, "02/29/00(Tue)00:00:00"),
            (4_107_542_399, "02/28/00(Sun)23:59:59"),
            (1_709_164_800, "02/29/24(Thu)00:00:00"),
        ];
        for (unix, want) in cases {
            assert_eq!(now(unix), want, "{unix}");
        }
    }

    #[test]
    fn tim_maps_to_one_file_of_one_post() {
        assert_eq!(tim(7, 0), 700);
        assert_eq!(tim(7, 3), 703);
        assert_eq!(split_tim(703), (7, 3));
        assert_eq!(split_tim(tim(123_456_789, 31)), (123_456_789, 31));
        assert_eq!(split_tim(5), (0, 5));
        // Distinct across posts and files, since an index stays below TIM_FILES.
        assert_ne!(tim(1, 31), tim(2, 0));
    }

    #[test]
    fn semantic_urls() {
        let cases = [
            ("Welcome to /po/!", "welcome-to-po"),
            (
                "Let's start a new thread since the previous one has been archived",
                "lets-start-a-new-thread-since-the-previous-one",
            ),
            ("My girlfriend's birthday", "my-girlfriends-birthday"),
            ("  Ünïcode & ---  stuff  ", "ncode-stuff"),
            ("a\nb\tc", "a-b-c"),
            ("", ""),
            ("日本語", ""),
            (&"a".repeat(80), &"a".repeat(50)),
        ];
        for (text, want) in cases {
            assert_eq!(semantic_url(text), want, "{text:?}");
            assert!(semantic_url(text).len() <= SEMANTIC_URL_CHARS);
        }
    }

    #[test]
    fn file_names_lose_their_extension() {
        assert_eq!(strip_extension("holiday.jpg"), "holiday");
        assert_eq!(strip_extension("a.tar.gz"), "a.tar");
        assert_eq!(strip_extension(".jpg"), ".jpg");
        assert_eq!(strip_extension("noext"), "noext");
    }
}
