//! DNS blocklist lookups: one A query per zone over UDP, with a deadline and a bounded cache.
//!
//! A listing is an A record for the reversed address under the zone; NXDOMAIN (or no record)
//! is "not listed". Only that question is asked, so a small query builder and a header check
//! are all the DNS this needs.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::bounded::{Bounded, MAX_KEYS};
use crate::config::Config;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::notify::{notify, Severity};

pub struct Dnsbl {
    zones: Vec<String>,
    server: SocketAddr,
    timeout: Duration,
    ttl: Duration,
    /// Per address: the zone that lists it (None: no zone does) and when that was learnt.
    cache: Mutex<Bounded<IpAddr, (Option<String>, Instant)>>,
}

/// A zone is a DNS name: dot-separated labels of letters, digits and inner hyphens.
pub fn valid_zone(zone: &str) -> bool {
    (1..=200).contains(&zone.len())
        && zone.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The name asked for `ip` in `zone`: the IPv4 octets, or the IPv6 nibbles, in reverse.
pub fn query_name(ip: IpAddr, zone: &str) -> String {
    let mut name = String::new();
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            for octet in v4.octets().iter().rev() {
                name.push_str(&format!("{octet}."));
            }
        }
        IpAddr::V6(v6) => {
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
        }
    }
    name.push_str(zone);
    name
}

/// A recursive query for the A record of `name`.
pub fn build_query(id: u16, name: &str) -> Vec<u8> {
    let mut packet = Vec::with_capacity(name.len() + 18);
    packet.extend_from_slice(&id.to_be_bytes());
    // Flags: recursion desired. One question, no other records.
    packet.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&[0, 1, 0, 1]); // type A, class IN
    packet
}

/// Reads an answer's header: None when it is not the answer to query `id`, else whether the
/// name has a record (listed), or the failure the server reported.
pub fn read_answer(id: u16, answer: &[u8]) -> Option<Result<bool, String>> {
    if answer.len() < 12 || answer[..2] != id.to_be_bytes() || answer[2] & 0x80 == 0 {
        return None;
    }
    let rcode = answer[3] & 0x0f;
    let records = u16::from_be_bytes([answer[6], answer[7]]);
    Some(match rcode {
        0 => Ok(records > 0),
        3 => Ok(false), // NXDOMAIN
        _ => Err(format!("the DNS server answered with code {rcode}")),
    })
}

async fn ask(server: SocketAddr, name: &str) -> Result<bool, String> {
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    socket
        .connect(server)
        .await
        .map_err(|e| format!("cannot reach {server}: {e}"))?;
    let mut id = [0u8; 2];
    getrandom::fill(&mut id).expect("the OS random source works");
    let id = u16::from_be_bytes(id);
    socket
        .send(&build_query(id, name))
        .await
        .map_err(|e| format!("cannot send to {server}: {e}"))?;
    let mut buf = [0u8; 512];
    loop {
        let n = socket
            .recv(&mut buf)
            .await
            .map_err(|e| format!("no answer from {server}: {e}"))?;
        if let Some(answer) = read_answer(id, &buf[..n]) {
            return answer;
        }
    }
}

/// The first `nameserver` of a resolv.conf.
pub fn nameserver(resolv_conf: &str) -> Option<SocketAddr> {
    resolv_conf.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            return None;
        }
        let addr = words.next()?.split('%').next()?;
        addr.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

impl Dnsbl {
    /// The lookup the config asks for: None when it lists no zone.
    pub fn new(config: &Config) -> Result<Option<Dnsbl>, String> {
        if config.dnsbl_zones.is_empty() {
            return Ok(None);
        }
        let server = match config.dnsbl_resolver() {
            Some(server) => server?,
            None => std::fs::read_to_string("/etc/resolv.conf")
                .ok()
                .as_deref()
                .and_then(nameserver)
                .ok_or(
                    "dnsbl_zones are set, but dnsbl_server is not and /etc/resolv.conf names \
                     no nameserver",
                )?,
        };
        Ok(Some(Dnsbl {
            zones: config.dnsbl_zones.clone(),
            server,
            timeout: Duration::from_millis(config.dnsbl_timeout_ms),
            ttl: Duration::from_secs(config.dnsbl_cache_secs),
            cache: Mutex::new(Bounded::new(MAX_KEYS)),
        }))
    }

    /// Refuses a listed address with 403 `dnsbl_listed`. A lookup that fails or runs out of
    /// time lets the post through and warns: a blocklist being down must not stop a board.
    pub async fn check(&self, client: IpAddr) -> ApiResult<()> {
        let client = client.to_canonical();
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .get(&client)
                .filter(|(_, at)| at.elapsed() < self.ttl)
                .map(|(zone, _)| zone.clone())
        };
        let listed = match cached {
            Some(listed) => listed,
            None => match self.look_up(client).await {
                Ok(listed) => {
                    let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                    cache.insert(client, (listed.clone(), Instant::now()));
                    listed
                }
                Err(why) => {
                    notify(
                        Severity::Warning,
                        "dnsbl_unavailable",
                        format_args!("a post from {client} went ahead unchecked: {why}"),
                    );
                    None
                }
            },
        };
        match listed {
            None => Ok(()),
            Some(zone) => Err(ApiError::new(
                ErrorKind::DnsblListed,
                format!(
                    "Your address is listed by the blocklist {zone}, so it cannot post here. \
                     Ask the list to remove it, or post from another connection."
                ),
            )),
        }
    }

    /// Asks every zone at once: the first that lists the address, or None when all answered
    /// that none does.
    async fn look_up(&self, client: IpAddr) -> Result<Option<String>, String> {
        let asks = self.zones.iter().map(|zone| async move {
            let answer = ask(self.server, &query_name(client, zone)).await;
            (zone, answer)
        });
        let all = futures_util::future::join_all(asks);
        let answers = tokio::time::timeout(self.timeout, all).await.map_err(|_| {
            format!(
                "{} did not answer within {} ms",
                self.server,
                self.timeout.as_millis()
            )
        })?;
        let mut failure = None;
        for (zone, answer) in answers {
            match answer {
                Ok(true) => return Ok(Some(zone.clone())),
                Ok(false) => {}
                Err(e) => failure = Some(format!("{zone}: {e}")),
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reverse_the_address() {
        let cases = [
            ("192.0.2.1", "dnsbl.example", "1.2.0.192.dnsbl.example"),
            ("::ffff:192.0.2.1", "z", "1.2.0.192.z"),
            (
                "2001:db8::567:89ab",
                "z",
                "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.z",
            ),
        ];
        for (ip, zone, name) in cases {
            assert_eq!(query_name(ip.parse().unwrap(), zone), name);
        }
    }

    #[test]
    fn zones_are_dns_names() {
        for (zone, ok) in [
            ("zen.spamhaus.org", true),
            ("dnsbl-1.example", true),
            ("", false),
            ("a..b", false),
            ("-a.b", false),
            ("a b", false),
            ("a.b.", false),
            (&"a".repeat(64), false),
        ] {
            assert_eq!(valid_zone(zone), ok, "{zone:?}");
        }
    }

    #[test]
    fn queries_and_answers() {
        let q = build_query(0xbeef, "1.2.0.192.z");
        assert_eq!(&q[..4], &[0xbe, 0xef, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x011\x012\x010\x03192\x01z\x00\x00\x01\x00\x01");
        let header = |id: u16, flags: [u8; 2], answers: u16| {
            let mut a = id.to_be_bytes().to_vec();
            a.extend_from_slice(&flags);
            a.extend_from_slice(&[0, 1]);
            a.extend_from_slice(&answers.to_be_bytes());
            a.extend_from_slice(&[0, 0, 0, 0]);
            a
        };
        // What the reader makes of an answer: None (not ours), listed or not, or a failure.
        type Read = Option<Result<bool, ()>>;
        let cases: [(Vec<u8>, Read); 6] = [
            (header(7, [0x81, 0x80], 1), Some(Ok(true))),
            (header(7, [0x81, 0x80], 0), Some(Ok(false))),
            (header(7, [0x81, 0x83], 0), Some(Ok(false))),
            (header(7, [0x81, 0x82], 0), Some(Err(()))),
            (header(8, [0x81, 0x80], 1), None), // another query's
            (header(7, [0x01, 0x00], 1), None), // a question, not an answer
        ];
        for (answer, expected) in cases {
            let got = read_answer(7, &answer).map(|r| r.map_err(|_| ()));
            assert_eq!(got, expected, "{answer:?}");
        }
        assert_eq!(read_answer(7, &[0; 5]), None);
    }

    #[test]
    fn the_first_nameserver_of_resolv_conf() {
        let text = "# generated\nsearch example\nnameserver fe80::1%eth0\nnameserver 10.0.0.1\n";
        assert_eq!(nameserver(text), Some("[fe80::1]:53".parse().unwrap()));
        assert_eq!(nameserver("options edns0\n"), None);
    }
}
