//! One `[[boards]]` section: a board's first settings, its defaults and the slug rules.

use serde::Deserialize;

/// One `[[boards]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoardConfig {
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Replies after this many no longer bump the thread.
    pub bump_limit: u32,
    /// Live threads kept; a new thread beyond it archives the least recently bumped one.
    pub thread_limit: u32,
    pub threads_per_page: u32,
    /// Maximum length of a post body, in characters.
    pub max_body_chars: u32,
    pub max_subject_chars: u32,
    pub max_name_chars: u32,
    /// Files one post may carry.
    pub max_files: u32,
    /// Whether a new thread must carry a file.
    pub require_file: bool,
    /// File types the board takes: any of `jpeg`, `png`, `gif`, `webp`, and, when
    /// `ffmpeg_path` is set, `webm` and `mp4`.
    pub allowed_types: Vec<String>,
    /// Largest single file, in bytes.
    pub max_file_bytes: u64,
    /// Largest whole post request (text and every file), in bytes.
    pub max_post_bytes: u64,
    /// Largest image, in upright pixels.
    pub max_image_width: u32,
    pub max_image_height: u32,
    /// Whether the uploader's file name is shown (sanitized) with the file.
    pub keep_file_names: bool,
    /// Names and tripcodes are ignored: everyone is Anonymous.
    pub forced_anon: bool,
    /// Each post shows an id per poster per thread.
    pub poster_ids: bool,
    /// Seconds after posting during which a poster may delete their post; 0 turns it off.
    pub delete_window_secs: u64,
    /// Days an archived thread is kept before it is deleted; 0 deletes threads at once when
    /// they leave the live list.
    pub archive_days: u32,
    /// Whether the board's posts appear in the recent posts across boards.
    pub show_in_recent: bool,
    /// Distinct posts and boards one post may link; further `>>` links stay plain text.
    pub max_quotes: u32,
    /// Replies a thread takes; the reply that reaches it locks the thread.
    pub max_replies: u32,
    /// The board's rules, in post markup.
    pub rules: String,
    /// Not safe for work.
    pub nsfw: bool,
    /// Seconds one client network (an IPv4 address, an IPv6 /64) waits between new threads
    /// on this board; 0 turns the cooldown off.
    pub cooldown_threads_secs: u32,
    /// Seconds between replies from one client network.
    pub cooldown_replies_secs: u32,
    /// Seconds between replies with files from one client network.
    pub cooldown_images_secs: u32,
    /// Seconds during which a body already posted on the board, by anyone, is refused; 0
    /// turns the check off.
    pub duplicate_window_secs: u32,
    /// New threads the board takes per minute from everyone together; 0 for no cap.
    pub max_threads_per_minute: u32,
    /// Whether the board's public log names the staff account behind each action.
    pub public_log_names: bool,
    /// What posters must solve: `off`, `pow`, `text`, or `auto` (the config's `auto_mode`
    /// while the board is busy).
    pub captcha: String,
}

/// The file types a board may allow, by their config names. Video needs `ffmpeg_path` too.
pub const FILE_TYPES: &[&str] = &["jpeg", "png", "gif", "webp", "webm", "mp4"];

/// The types of [`FILE_TYPES`] that are video, taken only when `ffmpeg_path` is set.
pub const VIDEO_TYPES: &[&str] = &["webm", "mp4"];

impl Default for BoardConfig {
    fn default() -> Self {
        BoardConfig {
            slug: String::new(),
            title: String::new(),
            description: String::new(),
            bump_limit: 300,
            thread_limit: 150,
            threads_per_page: 10,
            max_body_chars: 4000,
            max_subject_chars: 100,
            max_name_chars: 50,
            max_files: 4,
            require_file: false,
            allowed_types: FILE_TYPES.iter().map(|t| (*t).to_owned()).collect(),
            max_file_bytes: 8 << 20,
            max_post_bytes: 20 << 20,
            max_image_width: 10_000,
            max_image_height: 10_000,
            keep_file_names: true,
            forced_anon: false,
            poster_ids: false,
            delete_window_secs: 3600,
            archive_days: 7,
            show_in_recent: true,
            // Tinyboard and vichan ship `max_cites = 45`: enough for any real reply.
            max_quotes: 45,
            // Past 4chan's bump limits (300 to 500), so a thread normally dies by sinking; the
            // cap only stops one thread from growing without end.
            max_replies: 1000,
            rules: String::new(),
            nsfw: false,
            // 4chan's cooldowns on most boards.
            cooldown_threads_secs: 600,
            cooldown_replies_secs: 60,
            cooldown_images_secs: 60,
            duplicate_window_secs: 600,
            // Well past a real board's pace, well below a flood that empties the catalog.
            max_threads_per_minute: 10,
            public_log_names: false,
            captcha: "off".into(),
        }
    }
}

/// Longest board slug; slugs appear in every URL and key, so they stay short.
pub const MAX_SLUG_LEN: usize = 16;

/// Slugs no board may have: the first path segments of the server's own routes, which the
/// 4chan-compatible paths `/{board}/...` would otherwise collide with.
pub const RESERVED_SLUGS: &[&str] = &["admin", "api", "app", "auth", "files", "healthz", "thumbs"];

/// A slug is 1 to 16 characters of `a-z` and `0-9`.
pub fn valid_slug(slug: &str) -> bool {
    (1..=MAX_SLUG_LEN).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl BoardConfig {
    /// The same bounds as the admin API's (`crate::settings`), in the config's words. Video
    /// types pass here: without `ffmpeg_path` they are dropped when the board is seeded.
    pub(super) fn validate(&self) -> Result<(), String> {
        crate::settings::check_board(&crate::model::Board::from(self), true)
            .map_err(|e| format!("board `{}`: {}", self.slug, e.message))
    }
}
