//! Per-client slot counting: how many connections or live streams one client address holds.
//!
//! A client is an IPv4 address or an IPv6 /64: one host is usually given a whole /64, so
//! counting single IPv6 addresses would give it 2^64 allowances. Counts live in a map that holds
//! only clients with a slot open, so its size is bounded by the open connections.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// Seconds a client refused a slot is told to wait before trying again.
pub const RETRY_AFTER_SECS: u64 = 5;

/// The key a client's slots are counted under.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// Counts slots per client against one cap.
pub struct Slots {
    cap: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One slot; dropping it gives the slot back.
pub struct Slot {
    slots: Arc<Slots>,
    key: IpAddr,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Slot({})", self.key)
    }
}

impl Slot {
    /// The client this slot is counted for.
    pub fn key(&self) -> IpAddr {
        self.key
    }
}

impl Slots {
    pub fn new(cap: usize) -> Arc<Slots> {
        Arc::new(Slots {
            cap,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `ip`'s client, or `None` when it already holds the cap.
    pub fn try_take(self: &Arc<Slots>, ip: IpAddr) -> Option<Slot> {
        let key = client_key(ip);
        let mut held = self.held.lock().unwrap();
        let count = held.entry(key).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: self.clone(),
            key,
        })
    }

    /// Slots `ip`'s client holds now.
    pub fn held_by(&self, ip: IpAddr) -> usize {
        let held = self.held.lock().unwrap();
        held.get(&client_key(ip)).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap();
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn clients_are_v4_addresses_and_v6_networks() {
        let cases = [
            ("198.51.100.7", "198.51.100.7"),
            ("::ffff:198.51.100.7", "198.51.100.7"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
            ("2001:db8:1:3::1", "2001:db8:1:3::"),
        ];
        for (given, key) in cases {
            assert_eq!(client_key(ip(given)), ip(key), "{given}");
        }
    }

    #[test]
    fn a_client_holds_at_most_the_cap_and_gets_slots_back() {
        let slots = Slots::new(2);
        let a = ip("2001:db8::1");
        let same_net = ip("2001:db8::2");
        let other = ip("198.51.100.7");
        let first = slots.try_take(a).expect("first");
        let second = slots.try_take(same_net).expect("second");
        assert!(slots.try_take(a).is_none(), "a /64 shares one cap");
        assert!(slots.try_take(other).is_some(), "others are not affected");
        assert_eq!(slots.held_by(a), 2);
        drop(first);
        let third = slots.try_take(a).expect("a freed slot is taken again");
        drop((second, third));
        assert_eq!(slots.held_by(a), 0);
        assert!(slots.held.lock().unwrap().is_empty(), "no entry stays");
    }
}
