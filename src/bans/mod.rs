//! Bans: what a ban is (a network or a cloak, on a board or everywhere, until a time or for
//! ever, with its appeal), parsing what staff type, and the in-memory [`index`] that answers
//! "is this client banned here?" on every post.

pub mod index;

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::model::BoardPost;

pub use index::BanIndex;

/// The public mark a post gets when its poster is banned for it, unless staff write another.
pub const DEFAULT_MARK: &str = "(USER WAS BANNED FOR THIS POST)";

/// A ban as stored (table `bans`, by id). Staff see it whole, admins with its address; the
/// poster sees [`Ban::poster_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub id: u64,
    /// The board it applies on; `None` for every board.
    pub board: Option<String>,
    pub target: Target,
    /// The post it was given for, when it was given from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<BoardPost>,
    /// The poster's cloak on the post's board, for staff who never see addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_cloak: Option<String>,
    /// Shown to the poster.
    pub reason: String,
    /// For staff only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The staff account that gave it; `None` for the server (a word filter).
    pub by: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds; `None` for a permanent ban.
    pub expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<Appeal>,
}

/// What a ban matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Every address in a network; a single address is a /32 or a /128.
    Network(Net),
    /// The posters whose cloak on `board` is `cloak` (an IPv4 address or an IPv6 /64).
    Cloak { board: String, cloak: String },
}

/// A ban's one appeal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    pub text: String,
    pub at: u64,
    pub status: AppealStatus,
    /// Staff's answer, which the poster reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatus {
    Open,
    /// Kept only in the log: accepting an appeal ends its ban.
    Accepted,
    Denied,
}

impl Ban {
    /// Whether the ban still applies at `now` (an expired ban stops at once, swept or not).
    pub fn active(&self, now: u64) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }

    /// Whether it applies to a post on `board`.
    pub fn covers_board(&self, board: &str) -> bool {
        self.board.as_deref().is_none_or(|b| b == board)
    }

    /// `address`, `range` or `cloak`.
    pub fn kind(&self) -> &'static str {
        match &self.target {
            Target::Network(net) if net.is_single() => "address",
            Target::Network(_) => "range",
            Target::Cloak { .. } => "cloak",
        }
    }

    /// The ban as staff see it; the address or network only for admins.
    pub fn staff_json(&self, admin: bool) -> serde_json::Value {
        let (address, cloak, cloak_board) = match &self.target {
            Target::Network(net) => (admin.then(|| net.to_string()), None, None),
            Target::Cloak { board, cloak } => (None, Some(cloak.as_str()), Some(board.as_str())),
        };
        serde_json::json!({
            "id": self.id,
            "board": self.board,
            "kind": self.kind(),
            "address": address,
            "cloak": cloak,
            "cloak_board": cloak_board,
            "post": self.post,
            "poster_cloak": self.poster_cloak,
            "reason": self.reason,
            "note": self.note,
            "by": self.by,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "appeal": self.appeal,
        })
    }

    /// The ban as the banned poster sees it: no private note, no staff name, no address.
    pub fn poster_json(&self) -> serde_json::Value {
        let appeal = self.appeal.as_ref().map(|a| {
            serde_json::json!({
                "text": a.text,
                "at": a.at,
                "status": a.status,
                "answer": a.answer,
                "answered_at": a.answered_at,
            })
        });
        serde_json::json!({
            "id": self.id,
            "board": self.board,
            "reason": self.reason,
            "post": self.post,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "appeal": appeal,
        })
    }
}

/// A network with its host bits cleared; IPv4 inside IPv6 (`::ffff:a.b.c.d`) is IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Net(IpNet);

impl Net {
    /// The one address `ip`.
    pub fn single(ip: IpAddr) -> Net {
        Net(IpNet::from(ip.to_canonical()))
    }

    /// The network a poster is known by: an IPv4 address, an IPv6 /64 (one household or
    /// server, as the poster ids and cloaks count it).
    pub fn of_poster(ip: IpAddr) -> Net {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Net(IpNet::from(IpAddr::V4(v4))),
            IpAddr::V6(v6) => Net(IpNet::new(IpAddr::V6(v6), 64).expect("64 <= 128").trunc()),
        }
    }

    pub fn addr(&self) -> IpAddr {
        self.0.network()
    }

    pub fn prefix(&self) -> u8 {
        self.0.prefix_len()
    }

    pub fn is_single(&self) -> bool {
        self.0.prefix_len() == self.0.max_prefix_len()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }

    /// Parses `a.b.c.d`, `a.b.c.d/n` (n ≤ 32), an IPv6 address or `x::/n` (n ≤ 128). Host bits
    /// set below the prefix are cleared (`10.1.2.3/8` is `10.0.0.0/8`).
    pub fn parse(text: &str) -> Result<Net, String> {
        let text = text.trim();
        let Some((addr, prefix)) = text.split_once('/') else {
            return text
                .parse::<IpAddr>()
                .map(Net::single)
                .map_err(|_| format!("`{text}` is not an IP address."));
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IP address."))?;
        let valid =
            !prefix.is_empty() && prefix.len() <= 3 && prefix.bytes().all(|b| b.is_ascii_digit());
        let prefix: u8 = valid
            .then(|| prefix.parse().ok())
            .flatten()
            .ok_or_else(|| format!("`/{prefix}` is not a prefix length."))?;
        let (addr, prefix) = match addr {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() && prefix >= 96 => (
                IpAddr::V4(v6.to_ipv4_mapped().expect("checked")),
                prefix - 96,
            ),
            other => (other, prefix),
        };
        let net = IpNet::new(addr, prefix).map_err(|_| {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            format!(
                "`{text}`: the prefix of an {} network is at most /{max}.",
                family(addr)
            )
        })?;
        Ok(Net(net.trunc()))
    }
}

fn family(addr: IpAddr) -> &'static str {
    if addr.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// A single address as written alone, a network with its prefix.
impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_single() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Serialize for Net {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Net {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Net::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Whether `text` can be a cloak: what [`crate::poster::Keys::cloak`] gives out.
pub fn valid_cloak(text: &str) -> bool {
    text.len() == 12
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_or_are_refused() {
        let cases: &[(&str, Option<&str>)] = &[
            ("10.0.0.1", Some("10.0.0.1")),
            ("10.0.0.0/8", Some("10.0.0.0/8")),
            ("10.1.2.3/8", Some("10.0.0.0/8")),
            ("10.0.0.0/32", Some("10.0.0.0")),
            ("0.0.0.0/0", Some("0.0.0.0/0")),
            ("10.0.0.0/33", None),
            ("10.0.0.0/", None),
            ("10.0.0.0/-1", None),
            ("10.0.0.0/+8", None),
            ("10.0.0.0/0008", None),
            ("10.0.0", None),
            ("2001:db8::1", Some("2001:db8::1")),
            ("2001:db8:1:2::/48", Some("2001:db8:1::/48")),
            ("::/0", Some("::/0")),
            ("::/128", Some("::")),
            ("::/129", None),
            ("::ffff:1.2.3.4", Some("1.2.3.4")),
            ("::ffff:1.2.3.0/120", Some("1.2.3.0/24")),
            ("example.com", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = Net::parse(text).map(|n| n.to_string()).ok();
            assert_eq!(got.as_deref(), *want, "{text}");
        }
    }

    #[test]
    fn containment() {
        let net = Net::parse("2001:db8:1::/48").unwrap();
        assert!(net.contains("2001:db8:1:ffff::1".parse().unwrap()));
        assert!(!net.contains("2001:db8:2::1".parse().unwrap()));
        let v4 = Net::parse("192.0.2.0/24").unwrap();
        assert!(v4.contains("::ffff:192.0.2.9".parse().unwrap()));
        assert!(!v4.contains("192.0.3.1".parse().unwrap()));
        assert_eq!(
            Net::of_poster("2001:db8::1:2:3:4".parse().unwrap()).to_string(),
            "2001:db8::/64"
        );
    }

    #[test]
    fn a_ban_round_trips() {
        let ban = Ban {
            id: 3,
            board: Some("b".into()),
            target: Target::Network(Net::parse("10.0.0.0/8").unwrap()),
            post: None,
            poster_cloak: None,
            reason: "spam".into(),
            note: Some("private".into()),
            by: Some("mod".into()),
            created_at: 1,
            expires_at: Some(10),
            appeal: None,
        };
        let back: Ban = serde_json::from_slice(&serde_json::to_vec(&ban).unwrap()).unwrap();
        assert_eq!(back, ban);
        assert!(ban.active(9) && !ban.active(10));
        assert_eq!(ban.staff_json(false)["address"], serde_json::Value::Null);
        assert_eq!(ban.staff_json(true)["address"], "10.0.0.0/8");
        let poster = ban.poster_json();
        assert!(poster.get("note").is_none() && poster.get("by").is_none());
    }
}
