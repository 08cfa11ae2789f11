//! Reading requests safely: bounded JSON bodies, strict query strings, the client's address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{HeaderMap, Request};
use serde_json::Value;

use crate::config::ProxySpec;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The largest JSON body accepted. A post body of 20,000 characters, each escaped as `\uXXXX`,
/// still fits; nothing legitimate comes close.
pub const MAX_JSON_BYTES: usize = 128 * 1024;

/// A client has this long to send a request body once its headers are in.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

fn too_large(limit: usize) -> ApiError {
    let message = format!("The request body is over the limit of {limit} bytes.");
    ApiError::new(ErrorKind::PayloadTooLarge, message)
}

/// Reads a JSON object body: checks the Content-Type, refuses an oversize body before and while
/// reading (never buffering more than the limit), then checks UTF-8 and JSON syntax. The
/// routes that read a body take no query parameters, so any query is refused too.
pub async fn json_object(req: Request<Incoming>) -> ApiResult<serde_json::Map<String, Value>> {
    query(req.uri().query(), &[])?;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        let message = format!(
            "This route takes Content-Type: application/json, not `{}`.",
            if content_type.is_empty() {
                "(none)"
            } else {
                content_type
            }
        );
        return Err(ApiError::new(ErrorKind::UnsupportedMediaType, message));
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_JSON_BYTES as u64) {
        return Err(too_large(MAX_JSON_BYTES));
    }
    let collect = Limited::new(req.into_body(), MAX_JSON_BYTES).collect();
    let collected = tokio::time::timeout(BODY_TIMEOUT, collect)
        .await
        .map_err(|_| {
            let message = format!(
                "The request body did not arrive within {} seconds.",
                BODY_TIMEOUT.as_secs()
            );
            ApiError::new(ErrorKind::RequestTimeout, message)
        })?;
    let bytes = collected
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large(MAX_JSON_BYTES)
            } else {
                ApiError::new(
                    ErrorKind::InvalidJson,
                    "The request body could not be read completely.",
                )
            }
        })?
        .to_bytes();
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let message = format!(
            "The request body is not valid UTF-8 (bad byte at offset {}).",
            e.valid_up_to()
        );
        ApiError::new(ErrorKind::InvalidUtf8, message)
    })?;
    match crate::input::parse_json(text)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::new(
            ErrorKind::InvalidType,
            "The request body must be a JSON object.",
        )),
    }
}

/// Parses a query string, allowing only the named parameters, each at most once.
pub fn query<'a>(raw: Option<&'a str>, allowed: &[&str]) -> ApiResult<HashMap<&'a str, &'a str>> {
    let mut params = HashMap::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !allowed.contains(&name) {
            let message = if allowed.is_empty() {
                format!("Unknown query parameter `{name}`: this route takes none.")
            } else {
                format!(
                    "Unknown query parameter `{name}`: this route takes {}.",
                    allowed.join(", ")
                )
            };
            return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field(name));
        }
        if params.insert(name, value).is_some() {
            let message = format!("Query parameter `{name}` is given more than once.");
            return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field(name));
        }
    }
    Ok(params)
}

/// A query parameter that must be a whole number in `min..=u64::MAX`.
pub fn query_number(params: &HashMap<&str, &str>, name: &str, min: u64) -> ApiResult<Option<u64>> {
    let Some(raw) = params.get(name) else {
        return Ok(None);
    };
    let parsed = raw
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| raw.parse::<u64>().ok())
        .flatten();
    match parsed {
        Some(n) if n >= min => Ok(Some(n)),
        _ => {
            let message = format!("`{name}` must be a whole number from {min}, not `{raw}`.");
            Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field(name))
        }
    }
}

/// The client's address. `X-Forwarded-For` is believed only when the socket peer is a trusted
/// proxy; then the client is the rightmost address in it that is not itself a trusted proxy
/// (entries further left were written by the client and prove nothing).
pub fn client_addr(peer: SocketAddr, headers: &HeaderMap, trusted: &[ProxySpec]) -> IpAddr {
    let peer = peer.ip().to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|p| p.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(value) = value.to_str() else {
            return client;
        };
        for entry in value.rsplit(',') {
            let Ok(ip) = entry.trim().parse::<IpAddr>() else {
                return client;
            };
            client = ip.to_canonical();
            if !is_trusted(&client) {
                return client;
            }
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_only_from_trusted_peers() {
        let trusted: Vec<ProxySpec> =
            vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let cases = [
            (local, vec!["198.51.100.7"], ip("198.51.100.7")),
            (stranger, vec!["198.51.100.7"], ip("203.0.113.9")),
            (local, vec![], ip("127.0.0.1")),
            // The client wrote the leftmost entry; the rightmost untrusted one is the truth.
            (
                local,
                vec!["1.1.1.1, 198.51.100.7, 10.0.0.2"],
                ip("198.51.100.7"),
            ),
            (local, vec!["1.1.1.1", "198.51.100.7"], ip("198.51.100.7")),
            (local, vec!["garbage"], ip("127.0.0.1")),
            (local, vec!["::ffff:198.51.100.7"], ip("198.51.100.7")),
        ];
        for (peer, xff, expected) in cases {
            assert_eq!(
                client_addr(peer, &headers(&xff), &trusted),
                expected,
                "{peer} {xff:?}"
            );
        }
        assert_eq!(
            client_addr(local, &headers(&["198.51.100.7"]), &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn query_strings() {
        assert_eq!(query(Some("page=2"), &["page"]).unwrap()["page"], "2");
        assert!(query(None, &[]).unwrap().is_empty());
        assert_eq!(
            query(Some("x=1"), &["page"]).unwrap_err().field.as_deref(),
            Some("x")
        );
        assert_eq!(
            query(Some("page=1&page=2"), &["page"]).unwrap_err().kind,
            ErrorKind::InvalidQuery
        );
        let p = query(Some("page=0"), &["page"]).unwrap();
        assert!(query_number(&p, "page", 1).is_err());
        for bad in ["-1", "abc", "", "1.5", "99999999999999999999999", "+3"] {
            let raw = format!("page={bad}");
            let p = query(Some(&raw), &["page"]).unwrap();
            assert!(query_number(&p, "page", 1).is_err(), "{bad}");
        }
    }
}
