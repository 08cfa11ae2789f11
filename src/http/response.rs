//! Building responses: JSON with strong ETags and 304s, and the error body.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, SizeHint};
use hyper::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION,
    RETRY_AFTER, VARY,
};
use hyper::{HeaderMap, StatusCode};

use super::{Body, Response};
use crate::cache::Cached;
use crate::error::ApiError;

const JSON: &str = "application/json; charset=utf-8";

/// `{"<key>": value}` serialized straight from `value`, without building a JSON tree first.
pub fn envelope(key: &str, value: &impl serde::Serialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{");
    serde_json::to_writer(&mut out, key).expect("a string serializes");
    out.extend_from_slice(b":");
    serde_json::to_writer(&mut out, value).expect("domain types serialize");
    out.extend_from_slice(b"}");
    out
}

pub fn body(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn base(status: StatusCode, bytes: impl Into<Bytes>) -> Response {
    let mut response = Response::new(body(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A GET answer: 304 when the client's `If-None-Match` already names this body, else the body
/// with its ETag. `no-cache` makes clients revalidate every time, which the 304 makes cheap.
/// A body with compressed copies is sent in the coding `Accept-Encoding` prefers, each coding
/// with its own ETag; `Range` is not served here, so a compressed answer is always whole.
pub fn cached(request_headers: &HeaderMap, value: &Arc<Cached>) -> Response {
    let mut response = match value.pick(request_headers) {
        Some(variant) => {
            let mut r = revalidated(request_headers, &variant.etag, || {
                body(variant.body.clone())
            });
            if r.status() == StatusCode::OK {
                r.headers_mut().insert(
                    CONTENT_ENCODING,
                    HeaderValue::from_static(variant.coding.token()),
                );
            }
            r
        }
        None => revalidated(request_headers, &value.etag, || body(value.body.clone())),
    };
    if value.varies() {
        vary_by_encoding(response.headers_mut());
    }
    response
}

/// Marks a response as one of several by `Accept-Encoding`, for caches on the way.
pub fn vary_by_encoding(headers: &mut HeaderMap) {
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
}

/// Like [`cached`], for a body made of slices of cached bodies, sent without copying them.
pub fn cached_parts(
    request_headers: &HeaderMap,
    parts: impl IntoIterator<Item = Bytes>,
    etag: &str,
) -> Response {
    revalidated(request_headers, etag, || {
        Parts(parts.into_iter().filter(|p| !p.is_empty()).collect()).boxed()
    })
}

fn revalidated(
    request_headers: &HeaderMap,
    etag_text: &str,
    full: impl FnOnce() -> Body,
) -> Response {
    let etag = HeaderValue::from_str(etag_text).expect("an etag is hex in quotes");
    let mut response = if etag_matches(request_headers, etag_text) {
        let mut r = base(StatusCode::NOT_MODIFIED, Bytes::new());
        r.headers_mut().remove(CONTENT_TYPE);
        r
    } else {
        let mut r = base(StatusCode::OK, Bytes::new());
        *r.body_mut() = full();
        r
    };
    response.headers_mut().insert(ETAG, etag);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A body of several chunks whose length is known up front, so hyper sends `Content-Length`.
struct Parts(VecDeque<Bytes>);

impl hyper::body::Body for Parts {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
    }
}

/// `If-None-Match` is a list of entity tags or `*`; weak tags compare by their opaque part.
pub fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|list| {
            list.split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
        })
}

/// 200 with a JSON body that is not cached (the answer to an action).
pub fn ok_json(value: &serde_json::Value) -> Response {
    let mut response = base(
        StatusCode::OK,
        serde_json::to_vec(value).expect("json value"),
    );
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 201 for something new, with its address.
pub fn created(location: &str, value: &serde_json::Value) -> Response {
    let mut response = base(
        StatusCode::CREATED,
        serde_json::to_vec(value).expect("json value"),
    );
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn error(err: &ApiError) -> Response {
    let mut response = base(err.status(), err.to_json());
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(secs) = err.retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(location) = err.location.as_deref() {
        if let Ok(location) = HeaderValue::from_str(location) {
            headers.insert(LOCATION, location);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        let etag = "\"abc\"";
        let cases = [
            ("\"abc\"", true),
            ("W/\"abc\"", true),
            ("\"x\", \"abc\"", true),
            ("*", true),
            ("\"abd\"", false),
            ("abc", false),
        ];
        for (header, expected) in cases {
            let mut h = HeaderMap::new();
            h.insert(IF_NONE_MATCH, HeaderValue::from_str(header).unwrap());
            assert_eq!(etag_matches(&h, etag), expected, "{header}");
        }
    }
}
