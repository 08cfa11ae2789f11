//! Posting with files: multipart posts, every accepted and refused kind of file, metadata
//! stripping, thumbnails, deduplication, image counts, and serving the stored files. Every
//! refused upload must leave nothing on disk and use up no post number.

pub use std::io::Cursor;
pub use std::path::PathBuf;

pub use image::{DynamicImage, GenericImageView};
pub use reqwest::multipart::{Form, Part};
pub use serde_json::{json, Value};

pub use crate::harness::*;
pub use crate::validation::{assert_error_shape, assert_unchanged, exchange, refused};

pub use images::*;

mod accepted;
mod counts;
mod images;
mod multipart;
mod privacy;
mod refusals;
mod restart;
mod serving;
mod video;

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test/fixtures/images/");

/// A fixture photo's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("test fixture {path} cannot be read: {e}"))
}

pub fn threads(board: &str) -> String {
    format!("/api/boards/{board}/threads")
}

pub fn replies(board: &str, thread: u64) -> String {
    format!("/api/boards/{board}/threads/{thread}/posts")
}

/// The type a browser would declare for this file name (the server must not trust it).
fn declared_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

/// A `file` part as a browser sends it.
pub fn file_part(bytes: Vec<u8>, name: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(declared_type(name))
        .unwrap()
}

/// A form with these files, in order, and a body when given.
pub fn form(body: Option<&str>, files: Vec<(Vec<u8>, &str)>) -> Form {
    let mut form = Form::new();
    for (bytes, name) in files {
        form = form.part("file", file_part(bytes, name));
    }
    if let Some(body) = body {
        form = form.text("body", body.to_owned());
    }
    form
}

/// Posts a form that must be accepted; returns the new post's number and its JSON.
pub async fn upload(s: &Server, path: &str, form: Form) -> (u64, Value) {
    let r = s.post_form(path, form).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let no = r.json["no"].as_u64().unwrap();
    let board = r.json["board"].as_str().unwrap().to_owned();
    (no, post(s, &board, no).await)
}

/// A post's JSON.
pub async fn post(s: &Server, board: &str, no: u64) -> Value {
    let r = s.get(&format!("/api/boards/{board}/posts/{no}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["post"].clone()
}

/// A thread's JSON.
pub async fn thread(s: &Server, board: &str, no: u64) -> Value {
    let r = s.get(&format!("/api/boards/{board}/threads/{no}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["thread"].clone()
}

/// The one file of a post with exactly one.
#[track_caller]
pub fn only_file(post: &Value) -> &Value {
    let files = post["files"].as_array().expect("files is an array");
    assert_eq!(files.len(), 1, "{post}");
    &files[0]
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn md5_base64(bytes: &[u8]) -> String {
    use base64::Engine;
    let digest = <md5::Md5 as md5::Digest>::digest(bytes);
    base64::engine::general_purpose::STANDARD.encode(digest)
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The thumbnail size for an image of `width` x `height` with longest side at most `size`:
/// never enlarged, aspect ratio kept.
pub fn expected_thumb(width: u32, height: u32, size: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= size {
        return (width, height);
    }
    let scale =
        |side: u32| ((f64::from(side) * f64::from(size) / f64::from(long)).round() as u32).max(1);
    (scale(width), scale(height))
}

/// What a client downloads for one file of a post.
pub struct Served {
    pub original: Vec<u8>,
    pub thumb: DynamicImage,
}

/// Checks one entry of a post's `files` against what is served and stored: the JSON fields,
/// the original's hashes and size, the thumbnail's type and size, the headers and the disk
/// layout. `size` is the server's `thumbnail_size`.
pub async fn check_file(
    s: &Server,
    file: &Value,
    mime: &str,
    (width, height): (u32, u32),
    size: u32,
) -> Served {
    let mut keys: Vec<&str> = file
        .as_object()
        .unwrap_or_else(|| panic!("a file is not an object: {file}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    // `name` and `spoiler` are left out when there is no name and no spoiler.
    keys.retain(|k| !matches!(*k, "name" | "spoiler"));
    assert_eq!(
        keys,
        [
            "height",
            "md5",
            "mime",
            "sha256",
            "size",
            "thumb_height",
            "thumb_url",
            "thumb_width",
            "url",
            "width"
        ],
        "{file}"
    );
    assert_eq!(file["mime"], mime, "{file}");
    assert_eq!(file["width"], width, "{file}");
    assert_eq!(file["height"], height, "{file}");
    assert!(
        matches!(file.get("spoiler"), None | Some(Value::Bool(true))),
        "{file}"
    );
    assert!(
        file.get("name")
            .is_none_or(|n| n.as_str().is_some_and(|n| !n.is_empty())),
        "{file}"
    );
    let sha = file["sha256"].as_str().unwrap();
    assert!(
        sha.len() == 64
            && sha
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "sha256 is not lowercase hex: {sha}"
    );
    let ext = match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        other => panic!("unexpected mime {other}"),
    };
    let (ab, cd) = (&sha[..2], &sha[2..4]);
    let url = format!("/files/{ab}/{cd}/{sha}.{ext}");
    let thumb_url = format!("/thumbs/{ab}/{cd}/{sha}.webp");
    assert_eq!(file["url"], url.as_str(), "{file}");
    assert_eq!(file["thumb_url"], thumb_url.as_str(), "{file}");

    let (status, headers, original) = s.get_bytes(&url, &[]).await;
    assert_eq!(status, 200, "GET {url}");
    assert_eq!(header(&headers, "content-type"), mime, "GET {url}");
    assert_eq!(header(&headers, "etag"), format!("\"{sha}\""), "GET {url}");
    assert_eq!(sha256_hex(&original), sha, "sha256 of the served original");
    assert_eq!(file["size"], original.len(), "size of the served original");
    assert_eq!(
        file["md5"],
        md5_base64(&original),
        "md5 of the served original"
    );
    let decoded = image::load_from_memory(&original)
        .unwrap_or_else(|e| panic!("the served original {url} does not decode: {e}"));
    let (w, h) = decoded.dimensions();
    assert!(
        (w, h) == (width, height) || (h, w) == (width, height),
        "served original is {w}x{h}, JSON says {width}x{height}"
    );

    let (status, headers, thumb) = s.get_bytes(&thumb_url, &[]).await;
    assert_eq!(status, 200, "GET {thumb_url}");
    assert_eq!(header(&headers, "content-type"), "image/webp");
    assert_eq!(header(&headers, "etag"), format!("\"{sha}-thumb\""));
    assert!(
        thumb.len() > 12 && &thumb[..4] == b"RIFF" && &thumb[8..12] == b"WEBP",
        "the thumbnail is not WebP"
    );
    let thumb_image = image::load_from_memory_with_format(&thumb, image::ImageFormat::WebP)
        .unwrap_or_else(|e| panic!("the thumbnail {thumb_url} does not decode: {e}"));
    assert_eq!(
        (json!(thumb_image.width()), json!(thumb_image.height())),
        (file["thumb_width"].clone(), file["thumb_height"].clone()),
        "thumbnail size against the JSON: {file}"
    );
    let (tw, th) = expected_thumb(width, height, size);
    let (aw, ah) = thumb_image.dimensions();
    assert!(
        aw.abs_diff(tw) <= 1 && ah.abs_diff(th) <= 1 && aw.max(ah) == tw.max(th),
        "thumbnail of {width}x{height} is {aw}x{ah}, expected {tw}x{th}"
    );

    let stored = s.data_dir().join(format!("files/{ab}/{cd}/{sha}.{ext}"));
    assert_eq!(
        std::fs::read(&stored).unwrap_or_else(|e| panic!("{}: {e}", stored.display())),
        original,
        "the stored original is what is served"
    );
    let stored = s.data_dir().join(format!("thumbs/{ab}/{cd}/{sha}.webp"));
    assert_eq!(
        std::fs::read(&stored).unwrap_or_else(|e| panic!("{}: {e}", stored.display())),
        thumb,
        "the stored thumbnail is what is served"
    );
    Served {
        original,
        thumb: thumb_image,
    }
}

/// `None` when `r` is the error `status` and `code` (and `field`, when given) with a message;
/// otherwise what differs. For tables of cases, so that one failure does not hide the others.
pub fn mismatch(r: &Reply, status: u16, code: &str, field: Option<&str>) -> Option<String> {
    let ok = r.status == status
        && r.code() == code
        && field.is_none_or(|f| r.json["error"]["field"] == f)
        && r.json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty());
    (!ok).then(|| {
        format!(
            "expected {status} {code} (field {field:?}), got {} {}",
            r.status, r.json
        )
    })
}

/// Fails with every collected mismatch.
#[track_caller]
pub fn assert_no_mismatches(failures: &[String]) {
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The files on disk are exactly `expected` when the answer arrives: a refused post removes
/// what it placed before it answers.
#[track_caller]
pub fn assert_files_settle(s: &Server, expected: &[PathBuf], what: &str) {
    let now = s.stored_files();
    assert_eq!(now, expected, "{what}: files left behind");
}

/// Nothing is left in `tmp/` once no upload is in flight.
#[track_caller]
pub fn assert_tmp_empty(s: &Server) {
    let left = s.tmp_files();
    assert!(left.is_empty(), "left in tmp/: {left:?}");
}

// ---------------------------------------------------------------------------------------------
// Hand-made multipart bodies, for what reqwest will not send.

pub const BOUNDARY: &str = "wani-test-boundary-5f2c";

pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// One part: its name, its file name (a file part when given) and its bytes.
pub type RawPart<'a> = (&'a str, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body with [`BOUNDARY`]; file names are written as given, unescaped.
pub fn raw_multipart(parts: &[RawPart]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file_name, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        out.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if let Some(file_name) = file_name {
            out.extend_from_slice(format!("; filename=\"{file_name}\"\r\n").as_bytes());
            out.extend_from_slice(
                format!("Content-Type: {}\r\n", declared_type(file_name)).as_bytes(),
            );
        } else {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}
