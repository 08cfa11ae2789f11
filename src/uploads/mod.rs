//! Posting with files: reading a `multipart/form-data` post as a bounded stream, then turning
//! each uploaded file into a stored original and thumbnail.
//!
//! Reading never holds more than one chunk of a file in memory: each file part streams to a
//! temporary file under `tmp/`. Every limit is enforced while reading, so an oversize body is
//! refused as soon as it crosses the line. The text is validated before any image work; the
//! images are then checked, cleaned and thumbnailed on blocking threads, at most one per core.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use futures_util::TryStreamExt;
use http_body_util::BodyStream;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::Request;
use md5::Md5;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tempfile::{NamedTempFile, TempPath};
use tokio::io::AsyncWriteExt;

use crate::api::posts::Kind as PostKind;
use crate::app::App;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::filebans::BanSet;
use crate::files::{self, Placement, Tree};
use crate::http::request::{query, refuse_unread, BodyDeadline};
use crate::media::video::{self, Video};
use crate::media::{self, Format, MediaError};
use crate::model::{Board, PostFile, StoredFile};
use crate::notify::{notify, Severity};

mod budget;

pub use budget::budget_permits;
use budget::{Budget, MEDIA_WAIT};

/// The longest a text part may be; the board's character limits apply after.
const MAX_TEXT_BYTES: u64 = 128 * 1024;
/// Longest file name kept for display, in characters.
const MAX_NAME_CHARS: usize = 128;
/// What a video run reserves besides its ffmpeg leash: the thumbnail of a small frame.
const VIDEO_EXTRA_BYTES: u64 = 16 << 20;
/// The most memory one ffmpeg run may take, whatever the budget.
const FFMPEG_MAX_BYTES: u64 = 256 << 20;

/// `POST .../threads/{thread}/posts` with files: the thread must take replies before any file
/// is decoded. (The writer checks again when the post is committed.)
pub async fn check_thread(app: &App, board: &str, thread: u64) -> ApiResult<()> {
    let (slug, no) = (board.to_owned(), thread);
    let meta = app.read(move |r| r.require_thread(&slug, no)).await?;
    match meta {
        meta if meta.archived => {
            let message =
                format!("Thread {thread} on /{board}/ is archived; it takes no more replies.");
            Err(ApiError::new(ErrorKind::ThreadArchived, message))
        }
        meta if meta.locked => {
            let message =
                format!("Thread {thread} on /{board}/ is locked; it takes no more replies.");
            Err(ApiError::new(ErrorKind::ThreadLocked, message))
        }
        _ => Ok(()),
    }
}

/// A multipart post, read: its text as a JSON object (so it is validated exactly as a JSON post
/// is), and its files waiting in `tmp/`.
pub struct Form {
    pub text: Map<String, Value>,
    pub files: Vec<Upload>,
}

/// One uploaded file, not yet checked.
pub struct Upload {
    temp: TempPath,
    name: Option<String>,
    spoiler: bool,
}

impl Upload {
    /// The name the uploader gave, for the word filters to check or rewrite.
    pub fn name_mut(&mut self) -> &mut Option<String> {
        &mut self.name
    }
}

pub fn is_multipart(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("multipart/form-data"))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidMultipart, message)
}

fn post_too_large(board: &Board) -> ApiError {
    ApiError::new(
        ErrorKind::PayloadTooLarge,
        format!(
            "The post is over this board's limit of {} bytes for text and files together.",
            board.max_post_bytes
        ),
    )
}

fn file_too_large(board: &Board) -> ApiError {
    ApiError::new(
        ErrorKind::FileTooLarge,
        format!(
            "A file is over this board's limit of {} bytes.",
            board.max_file_bytes
        ),
    )
    .with_field("file")
}

/// What multer reports, in the API's terms.
fn multipart_error(e: multer::Error, board: &Board) -> ApiError {
    match e {
        multer::Error::StreamSizeExceeded { .. } => post_too_large(board),
        multer::Error::FieldSizeExceeded { field_name, .. } => match field_name.as_deref() {
            Some("file") => file_too_large(board),
            name => ApiError::new(
                ErrorKind::PayloadTooLarge,
                format!("A text field is over the limit of {MAX_TEXT_BYTES} bytes."),
            )
            .with_field(name.unwrap_or("")),
        },
        multer::Error::NoBoundary => invalid(
            "The Content-Type multipart/form-data needs a boundary parameter, as in \
             `multipart/form-data; boundary=...`.",
        ),
        e => invalid(format!("The multipart body is malformed: {e}.")),
    }
}

/// Reads a multipart post: text parts `subject`, `name`, `body`, `sage`; file parts `file`
/// (in order); `spoiler` parts holding the 0-based index of a file to hide behind a spoiler.
pub async fn read_form(
    app: &App,
    req: Request<Incoming>,
    board: &Board,
    kind: PostKind,
    before_files: impl FnOnce(&mut Map<String, Value>) -> ApiResult<()>,
) -> ApiResult<Form> {
    let mut before_files = Some(before_files);
    let text_fields = crate::api::posts::text_fields(kind);
    query(req.uri().query(), &[])?;
    // One deadline for the whole body: a file part trickled a byte at a time still ends.
    let deadline = BodyDeadline::of(&req);
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > board.max_post_bytes) {
        // Read what the client is still sending (bounded) so that the answer reaches it: a
        // proxy in front, whose own limit is the largest board's, would otherwise meet a reset
        // mid-upload and answer 502 instead of this board's 413.
        return Err(refuse_unread(req, post_too_large(board)).await);
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|e| multipart_error(e, board))?;
    let stream = BodyStream::new(req.into_body())
        .try_filter_map(|frame| async move { Ok(frame.into_data().ok()) });
    let limits = multer::SizeLimit::new()
        .whole_stream(board.max_post_bytes)
        .per_field(MAX_TEXT_BYTES)
        .for_field("file", board.max_file_bytes);
    let mut multipart = multer::Multipart::with_constraints(
        stream,
        boundary,
        multer::Constraints::new().size_limit(limits),
    );

    let mut text = Map::new();
    let mut files: Vec<Upload> = Vec::new();
    let mut spoilers = Vec::new();
    // Each text field once, and a file part (empty ones included, as browsers send for an
    // unused input) and a spoiler part per file the board takes.
    let max_parts = text_fields.len() + 2 * board.max_files as usize;
    let mut parts = 0usize;
    while let Some(mut field) = deadline
        .within(multipart.next_field())
        .await?
        .map_err(|e| multipart_error(e, board))?
    {
        parts += 1;
        if parts > max_parts {
            let message = format!(
                "The multipart body has more than {max_parts} parts; this board takes at most \
                 one part per text field and two per file."
            );
            return Err(invalid(message));
        }
        let Some(name) = field.name().map(str::to_owned) else {
            return Err(invalid("Every part of a multipart post needs a name."));
        };
        if name != "file" && name != "spoiler" && !text_fields.contains(&name.as_str()) {
            let message = format!(
                "Unknown field `{name}`; this route takes {}, file, spoiler.",
                text_fields.join(", ")
            );
            return Err(ApiError::new(ErrorKind::UnknownField, message).with_field(&name));
        }
        if name == "file" {
            // The text so far is checked (the captcha) before a byte of any file is read.
            if let Some(check) = before_files.take() {
                check(&mut text)?;
            }
            let file_name = field.file_name().map(str::to_owned);
            let temp = NamedTempFile::new_in(app.files.tmp_dir())
                .map_err(|e| ApiError::internal("upload_temp_failed", e))?;
            let (std_file, temp) = temp.into_parts();
            let mut out = tokio::io::BufWriter::with_capacity(
                256 * 1024,
                tokio::fs::File::from_std(std_file),
            );
            let mut size = 0u64;
            while let Some(chunk) = deadline
                .within(field.chunk())
                .await?
                .map_err(|e| multipart_error(e, board))?
            {
                size += chunk.len() as u64;
                out.write_all(&chunk)
                    .await
                    .map_err(|e| ApiError::internal("upload_write_failed", e))?;
            }
            out.flush()
                .await
                .map_err(|e| ApiError::internal("upload_write_failed", e))?;
            // A browser form with no file chosen sends an empty part with an empty name.
            if size == 0 && file_name.as_deref().unwrap_or("").is_empty() {
                continue;
            }
            if files.len() as u32 >= board.max_files {
                let message = format!(
                    "This board takes at most {} file{} per post.",
                    board.max_files,
                    if board.max_files == 1 { "" } else { "s" }
                );
                return Err(ApiError::new(ErrorKind::TooManyFiles, message).with_field("file"));
            }
            files.push(Upload {
                temp,
                name: file_name,
                spoiler: false,
            });
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = deadline
            .within(field.chunk())
            .await?
            .map_err(|e| multipart_error(e, board))?
        {
            bytes.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(bytes).map_err(|_| {
            ApiError::new(
                ErrorKind::InvalidUtf8,
                format!("The field `{name}` is not valid UTF-8."),
            )
            .with_field(&name)
        })?;
        match name.as_str() {
            "spoiler" => spoilers.push(value),
            "sage" => {
                let flag = match value.as_str() {
                    "true" | "on" | "1" => true,
                    "false" | "0" | "" => false,
                    _ => {
                        let message = "`sage` must be true or false (or on, 1, 0).";
                        return Err(
                            ApiError::new(ErrorKind::InvalidType, message).with_field("sage")
                        );
                    }
                };
                insert_once(&mut text, name, Value::Bool(flag))?;
            }
            _ => insert_once(&mut text, name, Value::String(value))?,
        }
    }
    if let Some(check) = before_files.take() {
        check(&mut text)?;
    }
    for index in spoilers {
        let file = index
            .parse::<usize>()
            .ok()
            .filter(|_| index.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|i| files.get_mut(i));
        let Some(file) = file else {
            let message = format!(
                "`spoiler` holds the number of a file in this post, from 0; `{index}` is not one."
            );
            return Err(ApiError::new(ErrorKind::InvalidType, message).with_field("spoiler"));
        };
        file.spoiler = true;
    }
    Ok(Form { text, files })
}

fn insert_once(text: &mut Map<String, Value>, name: String, value: Value) -> ApiResult<()> {
    if text.contains_key(&name) {
        let message = format!("The field `{name}` is given more than once.");
        return Err(invalid(message).with_field(&name));
    }
    text.insert(name, value);
    Ok(())
}

/// Checks, cleans, thumbnails and stores each file, all in parallel up to the core count. On
/// any refusal the files already placed go with the dropped claims.
pub async fn store(
    app: &App,
    board: &Board,
    uploads: Vec<Upload>,
) -> ApiResult<(Vec<(PostFile, StoredFile)>, Placement)> {
    let count = uploads.len();
    let tasks = uploads.into_iter().enumerate().map(|(index, upload)| {
        let files = app.files.clone();
        let board = board.clone();
        let thumb_size = app.config.thumbnail_size;
        let ffmpeg = app.config.ffmpeg_path.clone();
        let slots = app.media_slots.clone();
        let bans = app.file_bans.current();
        let ban_distance = app.config.file_ban_distance;
        let budget = Budget {
            permits: app.media_budget.clone(),
            total: app.config.media_memory_bytes,
            runtime: tokio::runtime::Handle::current(),
            wait: MEDIA_WAIT,
        };
        async move {
            // Files queue for a core without a deadline (a post's own files wait for each other
            // here); only the memory budget, reserved on the blocking thread, answers `busy`.
            let _slot = slots
                .acquire_owned()
                .await
                .map_err(|e| ApiError::internal("media_slots_closed", e))?;
            let processed = tokio::task::spawn_blocking(move || {
                process(
                    &files,
                    upload,
                    &board,
                    thumb_size,
                    ffmpeg.as_deref(),
                    &budget,
                    (&bans, ban_distance),
                )
                .map_err(|e| locate(e, index, count))
            });
            processed
                .await
                .map_err(|e| ApiError::internal("media_task_failed", e))?
        }
    });
    // Every file finishes (or fails) before the answer, so a refusal can clean up completely
    // before it is sent.
    let done = futures_util::future::join_all(tasks).await;
    let mut placement = Placement::default();
    let mut out = Vec::with_capacity(done.len());
    let mut refusal = None;
    for result in done {
        match result {
            Ok((file, stored, claim)) => {
                placement.add(claim);
                out.push((file, stored));
            }
            Err(e) => {
                refusal.get_or_insert(e);
            }
        }
    }
    if let Some(e) = refusal {
        placement.discard().await;
        return Err(e);
    }
    Ok((out, placement))
}

/// Names the file at fault when the post has several.
fn locate(mut e: ApiError, index: usize, count: usize) -> ApiError {
    if count > 1 && e.field.as_deref() == Some("file") {
        e.message = format!("File {} of {count}: {}", index + 1, e.message);
    }
    e
}

/// What an upload turned out to be.
#[derive(Clone, Copy)]
enum Kind {
    Image(Format),
    Video(Video),
}

impl Kind {
    /// The board config's name for the type.
    fn type_name(self) -> &'static str {
        match self {
            Kind::Image(Format::Jpeg) => "jpeg",
            Kind::Image(Format::Png) => "png",
            Kind::Image(Format::Gif) => "gif",
            Kind::Image(Format::Webp) => "webp",
            Kind::Video(video) => video.type_name(),
        }
    }
}

/// A video's refusals speak of a video, not an image.
fn video_error(e: MediaError) -> ApiError {
    let message = match &e {
        MediaError::Corrupt(_) | MediaError::Undecodable(_) => {
            "The video is damaged or cannot be read.".to_owned()
        }
        MediaError::Truncated => "The video is incomplete (cut off before its end).".to_owned(),
        MediaError::TooLarge { width, height } => {
            format!("The video is {width}x{height} pixels, over this board's limit.")
        }
        MediaError::OverBudget { width, height } => format!(
            "The video is {width}x{height} pixels; decoding it would take more memory than \
             this server allows."
        ),
        _ => return media_error(e),
    };
    ApiError {
        message,
        ..media_error(e)
    }
}

/// A refusal in the API's terms. A decoder's or ffmpeg's own words go to the log, never to the
/// client (they may name files and internals).
fn media_error(e: MediaError) -> ApiError {
    if let MediaError::Undecodable(detail) = &e {
        notify(Severity::Warning, "upload_undecodable", detail);
    }
    let kind = match &e {
        MediaError::NotAnImage => ErrorKind::NotAnImage,
        MediaError::Video => ErrorKind::VideoNotSupported,
        MediaError::Unsupported(_) => ErrorKind::UnsupportedImageType,
        MediaError::Truncated => ErrorKind::ImageTruncated,
        MediaError::Corrupt(_) | MediaError::Undecodable(_) => ErrorKind::ImageCorrupt,
        MediaError::TooLarge { .. } | MediaError::OverBudget { .. } => ErrorKind::ImageTooLarge,
        MediaError::Io(_) => return ApiError::internal("media_failed", e),
    };
    ApiError::new(kind, sentence(&e.to_string())).with_field("file")
}

/// "the file is not an image" → "The file is not an image."
fn sentence(fragment: &str) -> String {
    let mut chars = fragment.chars();
    let first = chars.next().map(|c| c.to_uppercase().to_string());
    format!("{}{}.", first.unwrap_or_default(), chars.as_str())
}

/// One file, on a blocking thread: sniff, check the board allows the type, strip metadata while
/// proving the image (or video, with ffmpeg) decodes, thumbnail, hash, refuse a banned file
/// (by exact hash, or by the thumbnail's perceptual hash), and place both under the hash.
fn process(
    files: &Arc<files::FileStore>,
    upload: Upload,
    board: &Board,
    thumb_size: u32,
    ffmpeg: Option<&Path>,
    budget: &Budget,
    (bans, ban_distance): (&BanSet, u32),
) -> ApiResult<(PostFile, StoredFile, files::Claim)> {
    let fail = |e| ApiError::internal("upload_read_failed", e);
    let mut head = [0u8; 64];
    let head_len = {
        use std::io::Read as _;
        let mut f = std::fs::File::open(&upload.temp).map_err(fail)?;
        let mut n = 0;
        loop {
            match f.read(&mut head[n..]).map_err(fail)? {
                0 => break n,
                k => n += k,
            }
            if n == head.len() {
                break n;
            }
        }
    };
    let head = &head[..head_len];
    let kind = match media::sniff(head) {
        Ok(format) => Kind::Image(format),
        Err(MediaError::Video) => match (ffmpeg, video::sniff(head)) {
            (Some(_), Some(container)) => Kind::Video(container),
            (Some(_), None) => {
                let message = "This kind of video is not accepted; post WebM or MP4.";
                return Err(
                    ApiError::new(ErrorKind::UnsupportedImageType, message).with_field("file")
                );
            }
            (None, _) => return Err(media_error(MediaError::Video)),
        },
        Err(e) => return Err(media_error(e)),
    };
    if !board.allowed_types.iter().any(|t| t == kind.type_name()) {
        let message = format!(
            "This board does not take {} files; it takes {}.",
            kind.type_name(),
            board.allowed_types.join(", ")
        );
        return Err(ApiError::new(ErrorKind::FileTypeNotAllowed, message).with_field("file"));
    }
    let limits = media::Limits {
        max_width: board.max_image_width,
        max_height: board.max_image_height,
    };
    let cleaned = NamedTempFile::new_in(files.tmp_dir())
        .map_err(fail)?
        .into_temp_path();
    let (ext, mime, width, height, thumb) = match (kind, ffmpeg) {
        (Kind::Image(_), _) => {
            let file_len = std::fs::metadata(&upload.temp).map_err(fail)?.len();
            let reading = budget.reserve(media::reading_cost(file_len))?;
            let prepared = media::prepare(&upload.temp, &limits).map_err(media_error)?;
            let cost = prepared.cost(thumb_size);
            if cost > budget.total {
                let (width, height) = prepared.width_height();
                return Err(media_error(MediaError::OverBudget { width, height }));
            }
            let _reserved = budget.grow(reading, cost)?;
            let (probed, thumb) = prepared
                .finish(&cleaned, &limits, thumb_size)
                .map_err(media_error)?;
            let format = probed.format;
            (
                format.ext(),
                format.mime(),
                probed.width,
                probed.height,
                thumb,
            )
        }
        (Kind::Video(container), Some(ffmpeg)) => {
            let leash = video::Leash {
                memory: budget.total.min(FFMPEG_MAX_BYTES),
                cpu: video::TIMEOUT,
            };
            let _reserved = budget.reserve(leash.memory + VIDEO_EXTRA_BYTES)?;
            let probed = video::ingest(
                ffmpeg,
                container,
                &upload.temp,
                &cleaned,
                &limits,
                thumb_size,
                leash,
            )
            .map_err(video_error)?;
            let (width, height) = (probed.width, probed.height);
            (
                container.ext(),
                container.mime(),
                width,
                height,
                probed.thumbnail,
            )
        }
        (Kind::Video(_), None) => unreachable!("video is refused above without ffmpeg"),
    };
    drop(upload.temp);

    let (sha256, md5, size) = hash_file(&cleaned).map_err(fail)?;
    // Before the file is placed: a banned upload leaves nothing behind (the cleaned copy is a
    // temporary file, removed when dropped).
    bans.check(&board.slug, &sha256, thumb.dhash, ban_distance)?;

    let thumb_ext = thumb.format.ext();
    let claim = files
        .place(&sha256, (cleaned, ext), (&thumb.bytes, thumb_ext))
        .map_err(|e| ApiError::internal("file_store_failed", e))?;
    let post_file = PostFile {
        url: files::url(Tree::Originals, &sha256, ext),
        thumb_url: files::url(Tree::Thumbs, &sha256, thumb_ext),
        name: upload
            .name
            .as_deref()
            .filter(|_| board.keep_file_names)
            .and_then(display_name),
        mime: mime.to_owned(),
        size,
        width,
        height,
        thumb_width: thumb.width,
        thumb_height: thumb.height,
        sha256: sha256.clone(),
        md5,
        spoiler: upload.spoiler,
    };
    let stored = StoredFile {
        sha256,
        ext: ext.to_owned(),
        thumb_ext: thumb_ext.to_owned(),
        size,
        refs: 0,
        dhash: Some(thumb.dhash),
    };
    Ok((post_file, stored, claim))
}

/// The stored original's hex SHA-256, base64 MD5 and length, read in chunks (a video may be
/// far larger than memory should hold).
fn hash_file(path: &Path) -> std::io::Result<(String, String, u64)> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let (mut sha256, mut md5) = (Sha256::new(), Md5::new());
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha256.update(&buf[..n]);
        md5.update(&buf[..n]);
        size += n as u64;
    }
    let hex = sha256
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5.finalize());
    Ok((hex, md5, size))
}

/// The uploader's file name as display text: the last path component (browsers on Windows
/// send backslashes), no control, invisible or bidi characters ([`crate::input::normalize`]),
/// trimmed, at most [`MAX_NAME_CHARS`] characters (the extension kept when cutting). `None`
/// when nothing is left.
fn display_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).collect();
    let clean = crate::input::normalize(&clean, crate::input::Lines::One);
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." {
        return None;
    }
    if clean.chars().count() <= MAX_NAME_CHARS {
        return Some(clean.to_owned());
    }
    let ext = clean
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.chars().count() <= 8)
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let keep = MAX_NAME_CHARS - ext.chars().count() - 1;
    let stem: String = clean.chars().take(keep).collect();
    Some(format!("{stem}…{ext}"))
}

#[cfg(test)]
mod tests {
    use super::budget::BUSY_RETRY_SECS;
    use super::*;
    use tokio::sync::Semaphore;

    #[test]
    fn display_names() {
        let long = format!("{}.png", "a".repeat(300));
        let cases: &[(&str, Option<&str>)] = &[
            ("cat.jpg", Some("cat.jpg")),
            ("../../etc/passwd.png", Some("passwd.png")),
            ("C:\\Users\\me\\photo.jpg", Some("photo.jpg")),
            ("  spaced.gif  ", Some("spaced.gif")),
            ("evil\u{202e}gpj.exe", Some("evilgpj.exe")),
            ("a\u{200e}\u{200f}\u{61c}\u{2028}b.png", Some("ab.png")),
            ("\u{200b}\u{feff}", None),
            ("a\u{0}b\nc.png", Some("abc.png")),
            ("", None),
            ("dir/", None),
            ("..", None),
            ("<script>.png", Some("<script>.png")),
        ];
        for (raw, expected) in cases {
            assert_eq!(display_name(raw).as_deref(), *expected, "{raw:?}");
        }
        let cut = display_name(&long).unwrap();
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS);
        assert!(cut.ends_with("….png"), "{cut}");
    }

    #[test]
    fn the_budget_queues_answers_busy_and_never_overcommits() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        let kib = 1024;
        let budget = Budget {
            permits: Arc::new(Semaphore::new(budget_permits(100 * kib))),
            total: 100 * kib,
            runtime: runtime.handle().clone(),
            wait: std::time::Duration::from_millis(20),
        };
        let free = || budget.permits.available_permits();
        let held = budget.reserve(80 * kib).unwrap();
        assert_eq!(free(), 20);

        let e = budget.reserve(40 * kib).unwrap_err();
        assert_eq!(
            (e.kind, e.retry_after),
            (ErrorKind::Busy, Some(BUSY_RETRY_SECS))
        );
        // Growing past what is free gives the share back rather than holding it while waiting.
        let small = budget.reserve(10 * kib).unwrap();
        assert_eq!(free(), 10);
        let e = budget.grow(small, 30 * kib).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Busy);
        assert_eq!(free(), 20);

        // Within what is free, growing is immediate; a queued reservation gets in once the
        // budget frees, and never more than the whole budget is handed out.
        let grown = budget
            .grow(budget.reserve(5 * kib).unwrap(), 20 * kib)
            .unwrap();
        assert_eq!((grown.num_permits(), free()), (20, 0));
        drop((held, grown));
        let all = budget.reserve(500 * kib).unwrap();
        assert_eq!(
            (all.num_permits(), free()),
            (100, 0),
            "clamped to the whole budget"
        );
        drop(all);
        assert_eq!(free(), 100);
    }

    #[test]
    fn messages_are_sentences() {
        assert_eq!(
            sentence("the file is not an image"),
            "The file is not an image."
        );
        let e = media_error(MediaError::TooLarge {
            width: 20000,
            height: 20000,
        });
        assert_eq!(e.kind, ErrorKind::ImageTooLarge);
        assert_eq!(e.field.as_deref(), Some("file"));
        assert!(
            e.message.starts_with("The image is 20000x20000"),
            "{}",
            e.message
        );
    }
}
