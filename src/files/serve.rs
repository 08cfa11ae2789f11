//! Serving stored files: content-addressed, so cached for a year; byte ranges for seeking; a
//! policy that keeps a file from ever running as a page.

use std::io::SeekFrom;

use futures_util::TryStreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{
    HeaderValue, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_RANGE, RANGE,
};
use hyper::{HeaderMap, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::Tree;
use crate::app::App;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::response::{self, etag_matches};
use crate::http::Response;
use crate::notify::{notify, Severity};

/// Even if a browser is tricked into rendering a file as a document, it runs nothing and loads
/// nothing but itself.
const CSP: &str =
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/// Read size when streaming a file to the socket.
const CHUNK: usize = 64 * 1024;

/// The part of a file a request asked for.
#[derive(Debug, PartialEq, Eq)]
enum Span {
    Whole,
    Part { start: u64, end: u64 },
    Unsatisfiable,
}

/// Parses a `Range` header against a file of `size` bytes. One range is served; a list or a
/// form this server does not know is answered with the whole file, as RFC 9110 allows.
fn span(header: Option<&str>, size: u64) -> Span {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Span::Whole;
    };
    if spec.contains(',') {
        return Span::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Span::Whole;
    };
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (first, last) {
        ("", suffix) => match number(suffix) {
            Some(0) => Span::Unsatisfiable,
            Some(n) if size > 0 => Span::Part {
                start: size.saturating_sub(n),
                end: size - 1,
            },
            Some(_) => Span::Unsatisfiable,
            None => Span::Whole,
        },
        (start, end) => {
            let Some(start) = number(start) else {
                return Span::Whole;
            };
            let end = match end {
                "" => size.saturating_sub(1),
                end => match number(end) {
                    Some(end) if end >= start => end.min(size.saturating_sub(1)),
                    _ => return Span::Whole,
                },
            };
            if start >= size {
                Span::Unsatisfiable
            } else {
                Span::Part { start, end }
            }
        }
    }
}

/// RFC 9110 §13.1.5: a `Range` sent with `If-Range` applies only while the validator is this
/// file's ETag, compared strongly; otherwise the whole file is sent. These responses carry no
/// `Last-Modified`, so a date never matches.
fn if_range_holds(headers: &HeaderMap, etag: &str) -> bool {
    match headers.get(IF_RANGE) {
        None => true,
        Some(value) => value.to_str().is_ok_and(|v| v.trim() == etag),
    }
}

/// The Content-Type of a stored file, by its extension.
pub fn mime(ext: &str) -> &'static str {
    match ext {
        "jpg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webm" => "video/webm",
        "mp4" => "video/mp4",
        _ => "image/webp",
    }
}

fn not_found(path: &str) -> ApiError {
    ApiError::new(ErrorKind::FileNotFound, format!("There is no file {path}."))
}

/// `GET /files/ab/cd/<sha256>.<ext>` and `GET /thumbs/ab/cd/<sha256>.webp` → the stored bytes,
/// with a strong ETag, a year of immutable caching, `Range` support and a script-proof policy.
pub async fn get(
    app: &App,
    headers: &HeaderMap,
    tree: Tree,
    sha256: String,
    ext: String,
) -> ApiResult<Response> {
    let url = super::url(tree, &sha256, &ext);
    let path = app.files.path(tree, &sha256, &ext);
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !read_through(app, tree, &sha256, &ext).await? {
                return Err(not_found(&url));
            }
            tokio::fs::File::open(&path)
                .await
                .map_err(|e| ApiError::internal("file_read_failed", e))?
        }
        Err(e) => return Err(ApiError::internal("file_read_failed", e)),
    };
    let size = file
        .metadata()
        .await
        .map_err(|e| ApiError::internal("file_read_failed", e))?
        .len();
    let etag = match tree {
        Tree::Originals => format!("\"{sha256}\""),
        Tree::Thumbs => format!("\"{sha256}-thumb\""),
    };

    let range = headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_holds(headers, &etag));
    let (status, start, len) = if etag_matches(headers, &etag) {
        (StatusCode::NOT_MODIFIED, 0, 0)
    } else {
        match span(range, size) {
            Span::Whole => (StatusCode::OK, 0, size),
            Span::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
            Span::Unsatisfiable => (StatusCode::RANGE_NOT_SATISFIABLE, 0, 0),
        }
    };
    let body = if len == 0 {
        response::body(bytes::Bytes::new())
    } else {
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError::internal("file_read_failed", e))?;
        let stream = ReaderStream::with_capacity(file.take(len), CHUNK).map_ok(Frame::data);
        StreamBody::new(stream).boxed()
    };

    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).expect("header values here are ASCII");
    h.insert(ETAG, value(&etag));
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    match status {
        StatusCode::NOT_MODIFIED => {}
        StatusCode::RANGE_NOT_SATISFIABLE => {
            h.insert(CONTENT_RANGE, value(&format!("bytes */{size}")));
            h.insert(CONTENT_LENGTH, HeaderValue::from(0));
        }
        _ => {
            h.insert(CONTENT_TYPE, HeaderValue::from_static(mime(&ext)));
            h.insert(CONTENT_LENGTH, HeaderValue::from(len));
            if status == StatusCode::PARTIAL_CONTENT {
                let end = start + len - 1;
                h.insert(CONTENT_RANGE, value(&format!("bytes {start}-{end}/{size}")));
            }
        }
    }
    Ok(response)
}

/// A referenced file missing on disk (a lost disk, a restore in progress) is fetched from the
/// S3 backup and kept. `false` when there is no such file to fetch.
async fn read_through(app: &App, tree: Tree, sha256: &str, ext: &str) -> ApiResult<bool> {
    let Some(backup) = &app.backup else {
        return Ok(false);
    };
    let owned = sha256.to_owned();
    let Some(stored) = app.read(move |r| r.file(&owned)).await? else {
        return Ok(false);
    };
    let stored_ext = match tree {
        Tree::Originals => &stored.ext,
        Tree::Thumbs => &stored.thumb_ext,
    };
    if stored_ext != ext {
        return Ok(false);
    }
    let key = super::relative(tree, sha256, ext);
    let path = app.files.path(tree, sha256, ext);
    match backup
        .bucket
        .get_to_file(&key, &path, &app.files.tmp_dir())
        .await
    {
        Ok(Some(_)) => {
            super::make_public(&app.config.data_dir, &key)
                .map_err(|e| ApiError::internal("file_read_failed", e))?;
            notify(
                Severity::Warning,
                "file_restored_from_backup",
                format_args!("{key} was missing on disk and was fetched from the backup"),
            );
            Ok(true)
        }
        Ok(None) => Ok(false),
        Err(e) => Err(ApiError::internal("backup_read_failed", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let part = |start, end| Span::Part { start, end };
        let cases = [
            (None, Span::Whole),
            (Some("bytes=0-99"), part(0, 99)),
            (Some("bytes=10-"), part(10, 999)),
            (Some("bytes=-10"), part(990, 999)),
            (Some("bytes=-5000"), part(0, 999)),
            (Some("bytes=900-5000"), part(900, 999)),
            (Some("bytes=1000-"), Span::Unsatisfiable),
            (Some("bytes=-0"), Span::Unsatisfiable),
            (Some("bytes=5-1"), Span::Whole),
            (Some("bytes=0-1,5-6"), Span::Whole),
            (Some("items=0-1"), Span::Whole),
            (Some("bytes=a-b"), Span::Whole),
            (Some("bytes=+1-2"), Span::Whole),
        ];
        for (header, expected) in cases {
            assert_eq!(span(header, 1000), expected, "{header:?}");
        }
        assert_eq!(span(Some("bytes=0-"), 0), Span::Unsatisfiable);
        assert_eq!(span(Some("bytes=-1"), 0), Span::Unsatisfiable);
    }

    #[test]
    fn if_range_needs_the_same_strong_etag() {
        let etag = "\"abc\"";
        let cases = [
            (None, true),
            (Some("\"abc\""), true),
            (Some(" \"abc\" "), true),
            (Some("W/\"abc\""), false),
            (Some("\"abd\""), false),
            (Some("Sat, 01 Jan 2000 00:00:00 GMT"), false),
            (Some("*"), false),
        ];
        for (header, expected) in cases {
            let mut h = HeaderMap::new();
            if let Some(v) = header {
                h.insert(IF_RANGE, HeaderValue::from_str(v).unwrap());
            }
            assert_eq!(if_range_holds(&h, etag), expected, "{header:?}");
        }
    }
}
