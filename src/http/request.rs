//! Reading requests safely: framing (Host, transfer codings), bounded JSON bodies within a
//! deadline, strict query strings, the client's address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use hyper::http::uri::Authority;
use hyper::{HeaderMap, Request, Version};
use serde_json::Value;
use tokio::time::Instant;

use crate::config::ProxySpec;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The largest JSON body accepted. A post body of 20,000 characters, each escaped as `\uXXXX`,
/// still fits; nothing legitimate comes close.
pub const MAX_JSON_BYTES: usize = 128 * 1024;

/// When a request's body must have arrived in full. The pipeline puts one in every request's
/// extensions from `body_timeout_secs`; readers of a body, JSON or multipart, wait only until it.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    pub at: Instant,
    pub secs: u64,
}

impl BodyDeadline {
    pub fn after(secs: u64) -> BodyDeadline {
        BodyDeadline {
            at: Instant::now() + Duration::from_secs(secs),
            secs,
        }
    }

    /// The request's deadline; one of the default length for a request the pipeline did not see.
    pub fn of<B>(req: &Request<B>) -> BodyDeadline {
        req.extensions()
            .get::<BodyDeadline>()
            .copied()
            .unwrap_or_else(|| {
                BodyDeadline::after(crate::config::Config::default().body_timeout_secs)
            })
    }

    /// Waits for `wait` until the deadline; past it, 408.
    pub async fn within<T>(self, wait: impl std::future::Future<Output = T>) -> ApiResult<T> {
        tokio::time::timeout_at(self.at, wait)
            .await
            .map_err(|_| self.expired())
    }

    pub fn expired(&self) -> ApiError {
        let message = format!(
            "The request body did not arrive in full within {} seconds.",
            self.secs
        );
        ApiError::new(ErrorKind::RequestTimeout, message)
    }
}

/// The most of an unwanted body read and thrown away before a refusal is answered, and for how
/// long at most.
const DRAIN_BYTES: u64 = 32 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Reads and discards what is left of a body the server refuses without reading (a missing
/// thread, an unknown board), then returns `err`. Answering first and closing with the upload
/// still arriving makes the kernel reset the connection, and the client loses the answer with
/// it; draining a bounded amount, as a lingering close does, lets it read why. Costs no memory:
/// each frame is dropped as it comes.
pub async fn refuse_unread(req: Request<Incoming>, err: ApiError) -> ApiError {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_BYTES) {
        return err;
    }
    let mut body = req.into_body();
    let mut read = 0u64;
    let drain = async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                read += data.len() as u64;
                if read > DRAIN_BYTES {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    err
}

/// RFC 9112 framing that hyper leaves to the application: an HTTP/1.1 request has exactly one
/// valid `Host` (§3.2, 400 otherwise), and a body's transfer coding must be one this server
/// decodes (§6.1, 501 otherwise). hyper itself refuses a body whose last coding is not chunked.
pub fn check_framing<B>(req: &Request<B>) -> ApiResult<()> {
    let hosts: Vec<_> = req.headers().get_all(HOST).iter().collect();
    let host_error =
        |message: &str| ApiError::new(ErrorKind::InvalidHost, message).with_field("Host");
    match hosts.as_slice() {
        [] if req.version() >= Version::HTTP_11 => {
            return Err(host_error("An HTTP/1.1 request needs a Host header."));
        }
        [] => {}
        [host] => {
            let valid = host.is_empty()
                || host
                    .to_str()
                    .ok()
                    .and_then(|h| h.parse::<Authority>().ok())
                    .is_some_and(|a| !a.as_str().contains('@'));
            if !valid {
                return Err(host_error(
                    "The Host header is not a host name with an optional port.",
                ));
            }
        }
        _ => return Err(host_error("A request takes one Host header, not several.")),
    }
    for value in req.headers().get_all(TRANSFER_ENCODING) {
        let codings = value.to_str().unwrap_or("?");
        for coding in codings.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if !coding.eq_ignore_ascii_case("chunked") {
                let message = format!(
                    "This server decodes no transfer coding but chunked, not `{}`.",
                    coding.chars().take(40).collect::<String>()
                );
                return Err(ApiError::new(ErrorKind::UnsupportedTransferCoding, message)
                    .with_field("Transfer-Encoding"));
            }
        }
    }
    Ok(())
}

fn too_large(limit: usize) -> ApiError {
    let message = format!("The request body is over the limit of {limit} bytes.");
    ApiError::new(ErrorKind::PayloadTooLarge, message)
}

/// Reads a JSON object body: checks the Content-Type, refuses an oversize body before and while
/// reading (never buffering more than the limit), then checks UTF-8 and JSON syntax. The
/// routes that read a body take no query parameters, so any query is refused too.
///
/// A request made with a session whose CSRF token was not in the header carries it in the
/// body's `csrf` field, checked and removed here (see [`crate::auth::gate::check`]).
pub async fn json_object(req: Request<Incoming>) -> ApiResult<serde_json::Map<String, Value>> {
    query(req.uri().query(), &[])?;
    let csrf = req.extensions().get::<crate::auth::gate::Csrf>().cloned();
    let deadline = BodyDeadline::of(&req);
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
        return Err(
            refuse_unread(req, ApiError::new(ErrorKind::UnsupportedMediaType, message)).await,
        );
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_JSON_BYTES as u64) {
        return Err(refuse_unread(req, too_large(MAX_JSON_BYTES)).await);
    }
    let collect = Limited::new(req.into_body(), MAX_JSON_BYTES).collect();
    let collected = deadline.within(collect).await?;
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
        Value::Object(mut map) => {
            crate::auth::gate::check_body(csrf.as_ref(), &mut map)?;
            Ok(map)
        }
        _ => Err(ApiError::new(
            ErrorKind::InvalidType,
            "The request body must be a JSON object.",
        )),
    }
}

/// Parses a query string, allowing only the named parameters, each at most once. Names and
/// values are decoded as a form would encode them (`%XX`, `+` for a space) before they are
/// checked, so `%70age=2` is `page=2`.
pub fn query(raw: Option<&str>, allowed: &[&str]) -> ApiResult<HashMap<String, String>> {
    let mut params = HashMap::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(raw_name, raw_name)?;
        if !allowed.contains(&name.as_str()) {
            let shown: String = name.chars().take(40).collect();
            let message = if allowed.is_empty() {
                format!("Unknown query parameter `{shown}`: this route takes none.")
            } else {
                format!(
                    "Unknown query parameter `{shown}`: this route takes {}.",
                    allowed.join(", ")
                )
            };
            return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field(name));
        }
        let value = decode(raw_value, &name)?;
        if params.contains_key(&name) {
            let message = format!("Query parameter `{name}` is given more than once.");
            return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field(name));
        }
        params.insert(name, value);
    }
    Ok(params)
}

/// Decodes one form-encoded name or value; `field` names it in the error.
fn decode(raw: &str, field: &str) -> ApiResult<String> {
    let bad = |why: &str| {
        let shown: String = field.chars().take(40).collect();
        let message = format!("Query parameter `{shown}` is not properly encoded: {why}.");
        ApiError::new(ErrorKind::InvalidQuery, message).with_field(field)
    };
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| bad("`%` must be followed by two hex digits"))?;
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad("it decodes to invalid UTF-8"))
}

/// A query parameter that must be a whole number in `min..=u64::MAX`.
pub fn query_number(
    params: &HashMap<String, String>,
    name: &str,
    min: u64,
) -> ApiResult<Option<u64>> {
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
        // Names and values are decoded before they are checked.
        let cases = [
            ("%70age=2", Some("2")),
            ("page=%32", Some("2")),
            ("p%61ge=1%2B1", Some("1+1")),
            ("page=a+b", Some("a b")),
            ("%70age=1&page=2", None),
            ("pag%65s=1", None),
            ("page=%zz", None),
            ("page=%2", None),
            ("page=%ff", None),
            ("%=1", None),
        ];
        for (raw, expected) in cases {
            let parsed = query(Some(raw), &["page"]);
            match expected {
                Some(value) => assert_eq!(parsed.unwrap()["page"], value, "{raw}"),
                None => assert_eq!(parsed.unwrap_err().kind, ErrorKind::InvalidQuery, "{raw}"),
            }
        }
        let p = query(Some("page=0"), &["page"]).unwrap();
        assert!(query_number(&p, "page", 1).is_err());
        for bad in ["-1", "abc", "", "1.5", "99999999999999999999999", "+3"] {
            let raw = format!("page={bad}");
            let p = query(Some(&raw), &["page"]).unwrap();
            assert!(query_number(&p, "page", 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn framing_checks() {
        let request = |version: Version, headers: &[(&str, &str)]| {
            let mut builder = Request::builder().version(version).uri("/healthz");
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            builder.body(()).unwrap()
        };
        type Case<'a> = (Version, &'a [(&'a str, &'a str)], Option<ErrorKind>);
        let v11 = Version::HTTP_11;
        let cases: [Case; 11] = [
            (v11, &[("host", "localhost")], None),
            (v11, &[("host", "localhost:8080")], None),
            (v11, &[("host", "[::1]:8080")], None),
            (v11, &[], Some(ErrorKind::InvalidHost)),
            (Version::HTTP_10, &[], None),
            (
                v11,
                &[("host", "a"), ("host", "b")],
                Some(ErrorKind::InvalidHost),
            ),
            (
                v11,
                &[("host", "user@localhost")],
                Some(ErrorKind::InvalidHost),
            ),
            (v11, &[("host", "local host")], Some(ErrorKind::InvalidHost)),
            (
                v11,
                &[("host", "a"), ("transfer-encoding", "chunked")],
                None,
            ),
            (
                v11,
                &[("host", "a"), ("transfer-encoding", "gzip, chunked")],
                Some(ErrorKind::UnsupportedTransferCoding),
            ),
            (
                v11,
                &[
                    ("host", "a"),
                    ("transfer-encoding", "chunked"),
                    ("transfer-encoding", "br"),
                ],
                Some(ErrorKind::UnsupportedTransferCoding),
            ),
        ];
        for (version, headers, expected) in cases {
            let got = check_framing(&request(version, headers))
                .err()
                .map(|e| e.kind);
            assert_eq!(got, expected, "{version:?} {headers:?}");
        }
    }
}
