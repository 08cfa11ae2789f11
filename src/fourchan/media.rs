//! Files by their 4chan and vichan names, redirected to where wani stores them.

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, LOCATION};
use hyper::StatusCode;

use super::post::split_tim;
use crate::app::App;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::{response, Response};

/// Extensions a vichan client may ask a thumbnail by, besides the file's own: vichan makes
/// PNG or JPEG thumbnails (4chan's are always `s.jpg`); wani's are WebP.
const THUMB_EXTENSIONS: &[&str] = &["jpg", "png", "webp"];

/// A `tim` names the same file for as long as the post keeps it.
const REDIRECT_CACHE: &str = "public, max-age=86400";

/// `GET /{board}/{tim}.{ext}` and vichan's `/{board}/src/{tim}.{ext}` → 301 to the stored
/// original; `GET /{board}/{tim}s.jpg` and vichan's `/{board}/thumb/{tim}.{ext}` (`thumb`) →
/// 301 to its thumbnail. An original's extension must be the file's own; 404 `file_not_found`
/// for a `tim` that names no file.
pub async fn file(
    app: &App,
    board: String,
    tim: u64,
    ext: String,
    thumb: bool,
) -> ApiResult<Response> {
    let (no, index) = split_tim(tim);
    let missing = format!(
        "/{board}/ has no file {tim} with a .{ext} {}.",
        if thumb { "thumbnail" } else { "original" }
    );
    let target = app
        .read(move |r| {
            r.require_board(&board)?;
            let file = r
                .post(&board, no)?
                .and_then(|p| p.files.into_iter().nth(index));
            Ok(file.and_then(|f| {
                let own = f.url.rsplit_once('.').map_or("", |(_, e)| e) == ext;
                match thumb {
                    false if own => Some(f.url),
                    true if own || THUMB_EXTENSIONS.contains(&ext.as_str()) => Some(f.thumb_url),
                    _ => None,
                }
            }))
        })
        .await?;
    let Some(target) = target else {
        return Err(ApiError::new(ErrorKind::FileNotFound, missing));
    };
    let mut redirect = Response::new(response::body(Bytes::new()));
    *redirect.status_mut() = StatusCode::MOVED_PERMANENTLY;
    let headers = redirect.headers_mut();
    headers.insert(
        LOCATION,
        HeaderValue::from_str(&target).map_err(|e| ApiError::internal("bad_file_url", e))?,
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(REDIRECT_CACHE));
    Ok(redirect)
}
