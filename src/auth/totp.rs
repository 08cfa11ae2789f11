//! The TOTP second factor (RFC 6238: HMAC-SHA-1, six digits, 30-second steps) and its
//! single-use recovery codes.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Bytes of a new secret: 160 bits, the HMAC-SHA-1 block RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Recovery codes handed out when TOTP is turned on.
pub const RECOVERY_CODES: usize = 10;
/// Longest code accepted, in characters: a recovery code with its dashes, with room to spare.
pub const MAX_CODE_CHARS: usize = 64;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// An account's second factor as stored (table `totp`, keyed by the normalized username).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpState {
    /// The shared secret in base32, as the authenticator app holds it; never served again.
    pub secret: String,
    /// False between enrolment and the first code.
    pub active: bool,
    /// The last step whose code was accepted: that one and earlier ones are refused.
    pub last_step: u64,
    /// SHA-256 (hex) of each unused recovery code.
    pub recovery: Vec<String>,
}

/// What a code proved, for the writer to consume atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// A TOTP code of this step.
    Step(u64),
    /// A recovery code with this hash (hex).
    Recovery(String),
}

/// A new random secret, in base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    base32(&bytes)
}

/// Ten new recovery codes (`xxxxx-xxxxx`, 50 bits each) and their hashes.
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; 7];
        getrandom::fill(&mut bytes).expect("the OS random source works");
        let text = base32(&bytes).to_lowercase();
        codes.push(format!("{}-{}", &text[..5], &text[5..10]));
    }
    let hashes = codes.iter().map(|c| recovery_hash(c)).collect();
    (codes, hashes)
}

/// The stored form of a recovery code: case, spaces and dashes do not matter.
pub fn recovery_hash(code: &str) -> String {
    let clean: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    Sha256::digest(clean.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `otpauth://` URI an authenticator app reads (usually from a QR code).
pub fn uri(issuer: &str, username: &str, secret: &str) -> String {
    let issuer = percent(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent(username)
    )
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The step of a Unix time.
pub fn step_at(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The code of one step (RFC 4226's HOTP with the step as counter), `digits` long.
pub fn code_at(key: &[u8], step: u64, digits: u32) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[hash.len() - 1] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    let value = binary % 10u32.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The step among `now - 1 ..= now + 1` whose code is `code`, if it is later than `last_step`.
pub fn matching_step(secret: &str, code: &str, now_step: u64, last_step: u64) -> Option<u64> {
    let key = unbase32(secret)?;
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (now_step.saturating_sub(1)..=now_step + 1)
        .filter(|s| *s > last_step)
        .find(|s| same(code_at(&key, *s, DIGITS).as_bytes(), code.as_bytes()))
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `code` looks like a TOTP code (digits only) rather than a recovery code.
pub fn is_numeric(code: &str) -> bool {
    let code = code.trim();
    !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit())
}

/// RFC 4648 base32 without padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32 (upper or lower case, no padding); `None` on any other character.
pub fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = BASE32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (eight digits there; six are the same value mod 10^6).
    #[test]
    fn rfc_6238_vectors() {
        let key = b"12345678901234567890";
        let cases = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, expected) in cases {
            assert_eq!(code_at(key, step_at(time), 8), expected, "{time}");
            assert_eq!(code_at(key, step_at(time), 6), expected[2..], "{time}");
        }
    }

    #[test]
    fn base32_round_trips() {
        let cases: [(&[u8], &str); 4] = [
            (b"", ""),
            (b"f", "MY"),
            (b"foobar", "MZXW6YTBOI"),
            (b"12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        ];
        for (bytes, text) in cases {
            assert_eq!(base32(bytes), text);
            assert_eq!(unbase32(text).unwrap(), bytes);
            assert_eq!(unbase32(&text.to_lowercase()).unwrap(), bytes);
        }
        assert_eq!(unbase32("MY1"), None);
        assert_eq!(unbase32(&new_secret()).unwrap().len(), SECRET_BYTES);
    }

    #[test]
    fn window_and_replay() {
        let secret = base32(b"12345678901234567890");
        let key = unbase32(&secret).unwrap();
        let now = 1000;
        let code = |s| code_at(&key, s, DIGITS);
        let cases = [
            (code(now), 0, Some(now)),
            (code(now - 1), 0, Some(now - 1)),
            (code(now + 1), 0, Some(now + 1)),
            (code(now - 2), 0, None),
            (code(now + 2), 0, None),
            (code(now), now, None),
            (code(now - 1), now, None),
            (code(now + 1), now, Some(now + 1)),
            (format!(" {} ", code(now)), 0, Some(now)),
            ("12345".to_owned(), 0, None),
            ("abcdef".to_owned(), 0, None),
        ];
        for (sent, last, expected) in cases {
            assert_eq!(
                matching_step(&secret, &sent, now, last),
                expected,
                "{sent} {last}"
            );
        }
    }

    #[test]
    fn recovery_codes() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(hashes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for (code, hash) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 11);
            assert!(!is_numeric(code));
            assert_eq!(&recovery_hash(&code.to_uppercase().replace('-', " ")), hash);
        }
        assert!(is_numeric("123456"));
        let uri = uri("wani", "ärger", "ABC");
        assert_eq!(
            uri,
            "otpauth://totp/wani:%C3%A4rger?secret=ABC&issuer=wani&algorithm=SHA1&digits=6&period=30"
        );
    }
}
