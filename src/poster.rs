//! Poster identity without accounts: secure tripcodes, per-thread poster ids and deletion
//! passwords, all keyed hashes under one server secret that never leaves the data directory.

use std::io::{self, Write as _};
use std::net::IpAddr;
use std::path::Path;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The secret's file in the data directory. Back it up with the database: without it, every
/// tripcode changes and no deletion password matches.
pub const SECRET_FILE: &str = "secret.key";

/// The server secret behind every keyed hash. Cloned only into the writer's thread move,
/// which computes the moved posters' cloaks on their new board.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    secret: [u8; 32],
}

// Never print the secret, whatever logs a write that carries it.
impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

impl Keys {
    /// Reads the secret, or makes one at first start (readable by the owner only).
    pub fn load_or_create(data_dir: &Path) -> io::Result<Keys> {
        let path = data_dir.join(SECRET_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let secret = bytes.try_into().map_err(|_| {
                    io::Error::other(format!("{} is not 32 bytes long", path.display()))
                })?;
                Ok(Keys { secret })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret).map_err(|e| io::Error::other(e.to_string()))?;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode_owner_only()
                    .open(&path)?;
                file.write_all(&secret)?;
                file.sync_all()?;
                Ok(Keys { secret })
            }
            Err(e) => Err(e),
        }
    }

    /// Keys from a fixed secret, for unit tests.
    #[cfg(test)]
    pub fn fixed(secret: [u8; 32]) -> Keys {
        Keys { secret }
    }

    /// HMAC-SHA256 under the secret of the parts, each length-prefixed so that no two
    /// different lists hash the same.
    fn mac(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .expect("HMAC takes keys of any length");
        for part in std::iter::once(purpose.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// `!!` and ten characters: the same secret always gives the same trip on this server, and
    /// the trip says nothing about the secret without the server's key.
    pub fn tripcode(&self, secret: &str) -> String {
        format!(
            "!!{}",
            &display(&self.mac("trip", &[secret.as_bytes()]))[..10]
        )
    }

    /// The poster's id key on a board: the writer mixes in the thread number with
    /// [`poster_id`]. It is keyed on the client's [`network`], and the address cannot be
    /// recovered from it.
    pub fn id_key(&self, board: &str, client: IpAddr) -> [u8; 32] {
        let address = match network(client) {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        self.mac("id", &[board.as_bytes(), &address])
    }

    /// The poster's cloak on a board: what staff other than admins see instead of an address,
    /// and what survives the address's erasure. Stable for one [`network`] on one board,
    /// unrelated across boards, and the address cannot be recovered from it.
    pub fn cloak(&self, board: &str, client: IpAddr) -> String {
        let address = match network(client) {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        display(&self.mac("cloak", &[board.as_bytes(), &address]))[..12].to_owned()
    }

    /// What is stored for a deletion password: a keyed hash, so a copy of the database alone
    /// reveals no password.
    pub fn password(&self, password: &str) -> [u8; 32] {
        self.mac("password", &[password.as_bytes()])
    }
}

/// The network that stands for one client: an IPv4 address as it is, an IPv6 address as its
/// /64, since one subscriber usually gets a whole /64 and picks addresses in it at will. An
/// IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is the IPv4 address.
pub fn network(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

/// Eight characters that are the same for one id key within one thread.
pub fn poster_id(id_key: &[u8; 32], thread: u64) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(id_key).expect("any key length");
    mac.update(&thread.to_be_bytes());
    let digest: [u8; 32] = mac.finalize().into_bytes().into();
    display(&digest)[..8].to_owned()
}

/// Base64 with `.` for `-`, so ids and trips are `[A-Za-z0-9._]`, safe in URLs and text.
fn display(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(bytes)
        .replace('-', ".")
}

/// Splits `Name#secret` into the name and the secret (`None` without a `#`, or with nothing
/// after it).
pub fn split_name(name: &str) -> (&str, Option<&str>) {
    match name.split_once('#') {
        Some((name, secret)) if !secret.is_empty() => (name, Some(secret)),
        Some((name, _)) => (name, None),
        None => (name, None),
    }
}

/// Creating the secret file with mode 0600 on Unix.
trait OwnerOnly {
    fn mode_owner_only(&mut self) -> &mut Self;
}

impl OwnerOnly for std::fs::OpenOptions {
    fn mode_owner_only(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_and_ids_are_stable_and_keyed() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(dir.path()).unwrap();
        let again = Keys::load_or_create(dir.path()).unwrap();
        let trip = keys.tripcode("hunter2");
        assert_eq!(trip, again.tripcode("hunter2"), "the secret file is reused");
        assert_eq!(trip.len(), 12);
        assert!(trip.starts_with("!!"));
        assert!(trip[2..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'));
        assert_ne!(trip, keys.tripcode("hunter3"));

        let other = tempfile::tempdir().unwrap();
        let elsewhere = Keys::load_or_create(other.path()).unwrap();
        assert_ne!(
            trip,
            elsewhere.tripcode("hunter2"),
            "another server, another trip"
        );

        let a = keys.id_key("b", "203.0.113.7".parse().unwrap());
        let b = keys.id_key("b", "198.51.100.9".parse().unwrap());
        assert_eq!(poster_id(&a, 1), poster_id(&a, 1));
        assert_ne!(poster_id(&a, 1), poster_id(&a, 2));
        assert_ne!(poster_id(&a, 1), poster_id(&b, 1));
        assert_eq!(poster_id(&a, 1).len(), 8);
        assert_eq!(
            keys.id_key("b", "203.0.113.7".parse().unwrap()),
            keys.id_key("b", "::ffff:203.0.113.7".parse().unwrap()),
            "an IPv4 client is one poster however it is written"
        );
    }

    #[test]
    fn cloaks_are_stable_per_board_and_unrelated_across_boards() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(dir.path()).unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let cloak = keys.cloak("b", client);
        assert_eq!(cloak.len(), 12);
        assert_eq!(
            cloak,
            keys.cloak("b", "::ffff:203.0.113.7".parse().unwrap())
        );
        assert_ne!(
            cloak,
            keys.cloak("g", client),
            "another board, another cloak"
        );
        assert_ne!(cloak, keys.cloak("b", "203.0.113.8".parse().unwrap()));
        let v6 = keys.cloak("b", "2001:db8::1".parse().unwrap());
        assert_eq!(
            v6,
            keys.cloak("b", "2001:db8::ffff".parse().unwrap()),
            "one /64, one cloak"
        );
        assert_ne!(
            display(&keys.id_key("b", client))[..12],
            cloak,
            "a cloak is not a poster id key"
        );
    }

    #[test]
    fn one_network_is_one_poster() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(dir.path()).unwrap();
        let id = |ip: &str| poster_id(&keys.id_key("b", ip.parse().unwrap()), 1);
        // (a, b, same poster id)
        let cases = [
            ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true),
            ("2001:db8:1:2::1", "2001:db8:1:3::1", false),
            ("2001:db8::1", "2001:db9::1", false),
            ("203.0.113.7", "203.0.113.8", false),
            ("203.0.113.7", "::ffff:203.0.113.7", true),
            ("::1", "::2", true),
        ];
        for (a, b, same) in cases {
            assert_eq!(id(a) == id(b), same, "{a} and {b}");
        }
        assert_eq!(
            network("2001:db8:1:2:3:4:5:6".parse().unwrap()),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn names_split_at_the_first_hash() {
        assert_eq!(split_name("anon"), ("anon", None));
        assert_eq!(split_name("anon#pw"), ("anon", Some("pw")));
        assert_eq!(split_name("#pw#x"), ("", Some("pw#x")));
        assert_eq!(split_name("anon#"), ("anon", None));
    }

    #[test]
    fn the_secret_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        Keys::load_or_create(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
