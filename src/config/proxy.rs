//! `trusted_proxies` entries: an address or a network, written as a string.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

/// A trusted proxy: an address or a network, written as a string in TOML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySpec(IpNet);

impl ProxySpec {
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl std::str::FromStr for ProxySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(ProxySpec(net));
        }
        s.parse::<IpAddr>()
            .map(|ip| ProxySpec(IpNet::from(ip)))
            .map_err(|_| format!("`{s}` is neither an IP address nor a CIDR network"))
    }
}

/// As written in the config: a lone address without its `/32` or `/128`.
impl std::fmt::Display for ProxySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl<'de> Deserialize<'de> for ProxySpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
