//! Session ids, their signed cookie, and the CSRF token bound to each session.

use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use cookie::{Cookie, CookieJar, Key, SameSite};
use hmac::{Hmac, KeyInit, Mac};
use hyper::header::COOKIE;
use hyper::HeaderMap;
use sha2::{Digest, Sha256};

/// The file in the data directory holding the cookie-signing key, when the config names none.
pub const KEY_FILE: &str = "cookie.key";
/// Bytes of the key file: the `cookie` crate takes a 64-byte master key.
const KEY_BYTES: usize = 64;

/// A new session: its id goes to the client (signed), only its hash to storage.
pub struct NewSession {
    pub id: [u8; 32],
}

impl NewSession {
    /// 256 bits from the OS's random source.
    pub fn generate() -> NewSession {
        let mut id = [0u8; 32];
        getrandom::fill(&mut id).expect("the OS random source works");
        NewSession { id }
    }

    /// The session's key in storage: a leaked database holds no usable session.
    pub fn key(&self) -> [u8; 32] {
        storage_key(&self.id)
    }
}

pub fn storage_key(id: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(id).into()
}

/// What the request's cookie says.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented {
    /// No session cookie.
    None,
    /// A cookie whose signature holds: the session id it names.
    Signed([u8; 32]),
    /// A cookie that was not made by this server (or was altered).
    Forged,
}

/// Signs and reads session cookies, and derives CSRF tokens.
pub struct Cookies {
    key: Key,
    name: String,
    secure: bool,
}

impl Cookies {
    /// Reads the key from `path`, or creates it there (owner-only) when it is absent.
    pub fn load_or_create(
        path: &Path,
        create: bool,
        name: &str,
        secure: bool,
    ) -> io::Result<Cookies> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                let mut bytes = vec![0u8; KEY_BYTES];
                getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)?;
                file.write_all(&bytes)?;
                file.sync_all()?;
                bytes
            }
            Err(e) => return Err(e),
        };
        if bytes.len() < KEY_BYTES {
            return Err(io::Error::other(format!(
                "{} holds {} bytes; it needs at least {KEY_BYTES}",
                path.display(),
                bytes.len()
            )));
        }
        Ok(Cookies {
            key: Key::try_from(bytes.as_slice()).map_err(|e| io::Error::other(e.to_string()))?,
            name: name.to_owned(),
            secure,
        })
    }

    /// The `Set-Cookie` value that hands the client its session. It expires far in the future:
    /// the server decides when a session ends.
    pub fn set(&self, session: &NewSession) -> String {
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key).add(Cookie::new(
            self.name.clone(),
            URL_SAFE_NO_PAD.encode(session.id),
        ));
        let signed = jar.get(&self.name).expect("just added").value().to_owned();
        Cookie::build((self.name.clone(), signed))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.secure)
            .permanent()
            .build()
            .to_string()
    }

    /// The `Set-Cookie` value that deletes the session cookie.
    pub fn clear(&self) -> String {
        Cookie::build((self.name.clone(), ""))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.secure)
            .removal()
            .build()
            .to_string()
    }

    /// The session cookie of a request, checked. Of several cookies with our name, the first
    /// counts.
    pub fn presented(&self, headers: &HeaderMap) -> Presented {
        let raw = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| Cookie::split_parse(v.to_owned()).filter_map(Result::ok))
            .find(|c| c.name() == self.name);
        let Some(raw) = raw else {
            return Presented::None;
        };
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(self.name.clone(), raw.value().to_owned()));
        let verified = jar.signed(&self.key).get(&self.name);
        let id = verified
            .and_then(|c| URL_SAFE_NO_PAD.decode(c.value()).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
        match id {
            Some(id) => Presented::Signed(id),
            None => Presented::Forged,
        }
    }

    /// The CSRF token of a session: a MAC of its id, so it needs no storage and dies with it.
    pub fn csrf(&self, id: &[u8; 32]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.signing())
            .expect("HMAC takes keys of any length");
        mac.update(b"wani csrf token\0");
        mac.update(id);
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn cookies(dir: &Path) -> Cookies {
        Cookies::load_or_create(&dir.join(KEY_FILE), true, "wani_session", false).unwrap()
    }

    fn with_cookie(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("other=1; {pair}")).unwrap(),
        );
        headers
    }

    #[test]
    fn cookies_round_trip_and_forgeries_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let jar = cookies(dir.path());
        let session = NewSession::generate();
        let set = jar.set(&session);
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Expires="] {
            assert!(set.contains(attribute), "{set}");
        }
        assert!(!set.contains("Secure"), "{set}");
        assert_eq!(
            jar.presented(&with_cookie(&set)),
            Presented::Signed(session.id)
        );
        // The same key file gives the same key after a restart.
        let again = cookies(dir.path());
        assert_eq!(
            again.presented(&with_cookie(&set)),
            Presented::Signed(session.id)
        );
        assert_eq!(again.csrf(&session.id), jar.csrf(&session.id));

        let value = set.split(';').next().unwrap();
        let mut tampered = value.to_owned();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let other = tempfile::tempdir().unwrap();
        let cases = [
            (tampered.as_str(), Presented::Forged),
            ("wani_session=abc", Presented::Forged),
            ("wani_session=", Presented::Forged),
            ("wani_sessions=abc", Presented::None),
        ];
        for (header, expected) in cases {
            assert_eq!(jar.presented(&with_cookie(header)), expected, "{header}");
        }
        assert_eq!(
            cookies(other.path()).presented(&with_cookie(&set)),
            Presented::Forged
        );
        assert!(jar.clear().contains("Max-Age=0"), "{}", jar.clear());
    }

    #[test]
    fn csrf_tokens_differ_per_session() {
        let dir = tempfile::tempdir().unwrap();
        let jar = cookies(dir.path());
        let (a, b) = (NewSession::generate(), NewSession::generate());
        assert_ne!(jar.csrf(&a.id), jar.csrf(&b.id));
        assert!(same_token(&jar.csrf(&a.id), &jar.csrf(&a.id)));
        assert!(!same_token(&jar.csrf(&a.id), &jar.csrf(&b.id)));
        assert!(!same_token("abc", "abcd"));
    }
}
