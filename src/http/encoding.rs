//! Content codings: which one a request accepts (`Accept-Encoding`), and the compressed copies
//! of a body that the cache and the web client keep beside the identity bytes.
//!
//! Offered codings are zstd and gzip. Both encoders are already linked (zstd for backups,
//! flate2 for PNG), so no codec is added for this. Every current browser takes gzip, and
//! Chromium and Firefox take zstd, which is smaller than gzip and far cheaper to make at a
//! similar ratio; brotli would add a dependency to save a few percent more for Safari alone.

use std::io::Write;

use hyper::header::ACCEPT_ENCODING;
use hyper::HeaderMap;

/// Bodies shorter than this are sent as they are: the headers outweigh what compression saves.
pub const MIN_BYTES: usize = 1024;

/// A content coding the server can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Zstd,
    Gzip,
}

/// The compressed codings, in the order preferred when the client weighs them equally.
pub const COMPRESSED: [Coding; 2] = [Coding::Zstd, Coding::Gzip];

/// How hard to compress: once per change of a cached response, or once per process start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// JSON that changes with every post: fast levels that still shrink it well.
    Cached,
    /// The web client's files, compressed once at start: high levels (zstd 19 would take four
    /// times as long at start for under 1 % less).
    Static,
}

impl Coding {
    /// The token of `Content-Encoding` (and of `Accept-Encoding`).
    pub fn token(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// `body` in this coding. Identity is the body itself.
    pub fn encode(self, body: &[u8], effort: Effort) -> Vec<u8> {
        match self {
            Coding::Identity => body.to_vec(),
            Coding::Gzip => {
                let level = match effort {
                    Effort::Cached => flate2::Compression::new(6),
                    Effort::Static => flate2::Compression::best(),
                };
                let out = Vec::with_capacity(body.len() / 4);
                let mut encoder = flate2::write::GzEncoder::new(out, level);
                encoder.write_all(body).expect("writing to memory");
                encoder.finish().expect("writing to memory")
            }
            Coding::Zstd => {
                let level = match effort {
                    Effort::Cached => 6,
                    Effort::Static => 15,
                };
                zstd::bulk::compress(body, level).expect("compressing in memory")
            }
        }
    }
}

/// Weights in thousandths, per coding the server knows; `None` where the header is silent.
#[derive(Debug, Default, PartialEq, Eq)]
struct Weights {
    zstd: Option<u16>,
    gzip: Option<u16>,
    identity: Option<u16>,
    any: Option<u16>,
}

/// The coding to answer with, among the compressed codings that have a copy ready (`ready`):
/// the one the client weighs highest, zstd before gzip on a tie. Identity when the header is
/// absent, malformed, or accepts none of them, or when it weighs `identity` itself higher. A
/// coding is acceptable when it is named, or covered by `*`, with a weight above 0.
pub fn choose(headers: &HeaderMap, ready: impl Fn(Coding) -> bool) -> Coding {
    let mut weights = Weights::default();
    for value in headers.get_all(ACCEPT_ENCODING) {
        let parsed = value
            .to_str()
            .ok()
            .and_then(|v| parse_into(v, &mut weights));
        if parsed.is_none() {
            return Coding::Identity;
        }
    }
    let weight = |coding: Coding| match coding {
        Coding::Zstd => weights.zstd.or(weights.any),
        Coding::Gzip => weights.gzip.or(weights.any),
        Coding::Identity => weights.identity,
    };
    let mut best = (Coding::Identity, 0u16);
    for coding in COMPRESSED {
        if !ready(coding) {
            continue;
        }
        let q = weight(coding).unwrap_or(0);
        if q > best.1 {
            best = (coding, q);
        }
    }
    match weights.identity {
        Some(identity) if identity > best.1 => Coding::Identity,
        _ => best.0,
    }
}

/// Reads one `Accept-Encoding` value (RFC 9110 §12.5.3) into `weights`: a comma-separated list
/// of codings, each with an optional `;q=` weight. `None` when it does not follow the grammar;
/// a coding named twice keeps its first weight. Unknown codings are skipped.
fn parse_into(value: &str, weights: &mut Weights) -> Option<()> {
    for element in value.split(',') {
        let element = element.trim_matches([' ', '\t']);
        if element.is_empty() {
            continue; // the list syntax allows empty elements
        }
        let (coding, params) = match element.split_once(';') {
            Some((coding, params)) => (coding.trim_end_matches([' ', '\t']), Some(params)),
            None => (element, None),
        };
        if coding.is_empty() || !(coding == "*" || coding.bytes().all(is_tchar)) {
            return None;
        }
        let q = match params {
            None => 1000,
            Some(params) => {
                let params = params.trim_start_matches([' ', '\t']);
                let value = params
                    .strip_prefix("q=")
                    .or_else(|| params.strip_prefix("Q="))?;
                qvalue(value)?
            }
        };
        let slot = if coding.eq_ignore_ascii_case("zstd") {
            &mut weights.zstd
        } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            &mut weights.gzip
        } else if coding.eq_ignore_ascii_case("identity") {
            &mut weights.identity
        } else if coding == "*" {
            &mut weights.any
        } else {
            continue;
        };
        slot.get_or_insert(q);
    }
    Some(())
}

/// `0`, `0.5`, `1.000`: at most three decimals, never above 1 (RFC 9110 §12.4.2), in thousandths.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn with(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn choosing_a_coding() {
        use Coding::*;
        let both = &[Zstd, Gzip][..];
        let cases: &[(&[&str], &[Coding], Coding)] = &[
            (&[], both, Identity),
            (&[""], both, Identity),
            (&["gzip"], both, Gzip),
            (&["GZip"], both, Gzip),
            (&["x-gzip"], both, Gzip),
            (&["zstd"], both, Zstd),
            (&["gzip, deflate, br, zstd"], both, Zstd),
            (&["gzip, deflate, br"], both, Gzip),
            (&["gzip, zstd"], &[Gzip], Gzip),
            (&["zstd"], &[Gzip], Identity),
            (&["gzip"], &[], Identity),
            (&["gzip;q=1, zstd;q=0.5"], both, Gzip),
            (&["gzip;q=0.5, zstd;q=0.5"], both, Zstd),
            (&["gzip ; q=0.5"], both, Gzip),
            (&["gzip;Q=0.5"], both, Gzip),
            (&["gzip;q=0"], both, Identity),
            (&["zstd;q=0, gzip"], both, Gzip),
            (&["zstd;q=0.000, gzip;q=0.001"], both, Gzip),
            (&["*"], both, Zstd),
            (&["*;q=0.5, zstd;q=0"], both, Gzip),
            (&["*;q=0"], both, Identity),
            (&["gzip;q=0.5, identity"], both, Identity),
            (&["gzip, identity;q=0.5"], both, Gzip),
            (&["gzip, identity;q=0"], both, Gzip),
            (&["br"], both, Identity),
            (&["compress, deflate"], both, Identity),
            (&["gzip", "zstd"], both, Zstd),
            (&[",, gzip ,"], both, Gzip),
            (&["gzip, gzip;q=0"], both, Gzip),
            // Malformed: the whole header is ignored.
            (&["gzip;q=2"], both, Identity),
            (&["gzip;q=1.5"], both, Identity),
            (&["gzip;q=0.5555"], both, Identity),
            (&["gzip;q="], both, Identity),
            (&["gzip;q=-1"], both, Identity),
            (&["gzip;level=9"], both, Identity),
            (&["gzip;q=abc"], both, Identity),
            (&["gz ip"], both, Identity),
            (&["gzip", "zstd;q=x"], both, Identity),
            (&["\"gzip\""], both, Identity),
            (&["gzip;"], both, Identity),
        ];
        for (values, available, expected) in cases {
            assert_eq!(
                choose(&with(values), |c| available.contains(&c)),
                *expected,
                "{values:?} with {available:?}"
            );
        }
    }

    #[test]
    fn qvalues() {
        let cases = [
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.123", Some(123)),
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("1.001", None),
            ("0.1234", None),
            ("2", None),
            ("", None),
            (".5", None),
            ("0.5x", None),
        ];
        for (text, expected) in cases {
            assert_eq!(qvalue(text), expected, "{text}");
        }
    }

    #[test]
    fn each_coding_decodes_to_the_body() {
        use std::io::Read;
        let body = br#"{"posts":[{"no":1,"body":"hello"}]}"#.repeat(100);
        for effort in [Effort::Cached, Effort::Static] {
            let gz = Coding::Gzip.encode(&body, effort);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, body);
            assert!(gz.len() < body.len() / 10);
            let zs = Coding::Zstd.encode(&body, effort);
            assert_eq!(zstd::bulk::decompress(&zs, body.len()).unwrap(), body);
            assert!(zs.len() < body.len() / 10);
        }
    }
}

/// How long compressing a thread-sized body takes, to weigh compressing on or off the request
/// path: `cargo test --release --lib http::encoding::measure -- --ignored --nocapture`.
#[cfg(test)]
mod measure {
    use super::*;
    use std::time::Instant;

    #[test]
    #[ignore = "a measurement, run by hand"]
    fn compressing_a_thread() {
        // 301 posts of varied prose (slices of the readme), shaped like a thread's posts.
        // Read when run, not compiled in: an edit of the readme then rebuilds nothing.
        let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/readme.md");
        let text: Vec<char> = std::fs::read_to_string(readme)
            .unwrap_or_else(|e| panic!("{readme}: {e}"))
            .chars()
            .collect();
        let posts: Vec<serde_json::Value> = (0..301)
            .map(|i| {
                let at = (i * 211) % (text.len() - 240);
                let body: String = text[at..at + 240].iter().collect();
                serde_json::json!({"no": 1000 + i, "thread": 1000, "board": "b",
                    "created_at": 1_796_050_000 + i * 7, "name": "Anonymous", "body": body})
            })
            .collect();
        let body = serde_json::to_vec(&posts).unwrap();
        let time = |label: String, f: &dyn Fn() -> usize| {
            let runs = 10;
            let started = Instant::now();
            let mut out = 0;
            for _ in 0..runs {
                out = f();
            }
            let each = started.elapsed() / runs;
            let ms = each.as_secs_f64() * 1000.0;
            println!("{label}: {} B → {out} B in {ms:.2} ms", body.len());
        };
        for coding in COMPRESSED {
            for effort in [Effort::Cached, Effort::Static] {
                time(format!("{coding:?} {effort:?}"), &|| {
                    coding.encode(&body, effort).len()
                });
            }
        }
        for level in [3, 9, 12, 15] {
            time(format!("zstd level {level}"), &|| {
                zstd::bulk::compress(&body, level).unwrap().len()
            });
        }
    }
}
