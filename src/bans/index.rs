//! The in-memory index of active bans, derived from the `bans` table: rebuilt at start and
//! updated by the commit listener after each committed ban change, so a post checks its client
//! against thousands of bans with a handful of hash lookups and no database read.
//!
//! Networks are kept in one hash map per (family, prefix length) present, keyed by the network
//! address: a client is looked up once per prefix length in use (an exact address is a /32 or
//! /128), whatever the number of bans. Cloaks are in a hash map by cloak; a client's cloak is
//! computed for the board posted on, and for each board a cloak ban reaching past its own board
//! (a global one, or a board's ban on a cloak made elsewhere) was made from.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use super::{Ban, Target};
use crate::poster::Keys;

#[derive(Default)]
pub struct BanIndex {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    bans: HashMap<u64, Arc<Ban>>,
    /// `(is_v6, prefix)` → network address bits → ban ids.
    nets: BTreeMap<(bool, u8), HashMap<u128, Vec<u64>>>,
    /// cloak → ids of the bans on it (each names the board the cloak belongs to).
    cloaks: HashMap<String, Vec<u64>>,
    /// Boards from whose cloaks bans reaching past that board were made, with how many: global
    /// ones, and a board's bans on a cloak made on another board (a post moved there after its
    /// address was erased). Every check computes the client's cloak on each.
    wide_cloak_boards: BTreeMap<String, usize>,
    /// Boards from whose cloaks any cloak bans were made, with how many.
    cloak_boards: BTreeMap<String, usize>,
}

/// An address as bits of its family, IPv4 mapped into IPv6 counted as IPv4.
fn bits(ip: IpAddr) -> (bool, u128) {
    match ip.to_canonical() {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

fn mask(v6: bool, bits: u128, prefix: u8) -> u128 {
    let width = if v6 { 128 } else { 32 };
    if prefix == 0 {
        0
    } else {
        bits & (u128::MAX << (width - u32::from(prefix)))
    }
}

impl BanIndex {
    pub fn new(bans: impl IntoIterator<Item = Ban>) -> BanIndex {
        let index = BanIndex::default();
        {
            let mut inner = index.inner.write().unwrap();
            for ban in bans {
                inner.insert(ban);
            }
        }
        index
    }

    /// Puts a created or changed ban in, replacing the old version.
    pub fn put(&self, ban: Ban) {
        let mut inner = self.inner.write().unwrap();
        inner.remove(ban.id);
        inner.insert(ban);
    }

    /// Takes a lifted, expired or pardoned ban out.
    pub fn remove(&self, id: u64) {
        self.inner.write().unwrap().remove(id);
    }

    pub fn len(&self) -> usize {
        self.inner.read().unwrap().bans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The active bans that apply to `client` posting on `board`, or on any board when `board`
    /// is `None`; by id.
    pub fn applying(
        &self,
        keys: &Keys,
        board: Option<&str>,
        client: IpAddr,
        now: u64,
    ) -> Vec<Arc<Ban>> {
        let inner = self.inner.read().unwrap();
        let mut ids = Vec::new();
        let (v6, bits) = bits(client);
        for (&(family, prefix), nets) in &inner.nets {
            if family == v6 {
                if let Some(found) = nets.get(&mask(v6, bits, prefix)) {
                    ids.extend_from_slice(found);
                }
            }
        }
        if !inner.cloaks.is_empty() {
            let mut boards: Vec<&str> =
                inner.wide_cloak_boards.keys().map(|b| b.as_str()).collect();
            match board {
                Some(board) => boards.push(board),
                // Any board: every board a cloak ban names.
                None => boards.extend(inner.cloak_boards.keys().map(|b| b.as_str())),
            }
            boards.sort_unstable();
            boards.dedup();
            for cloak_board in boards {
                let cloak = keys.cloak(cloak_board, client);
                for id in inner.cloaks.get(&cloak).into_iter().flatten() {
                    let named = inner.bans.get(id).is_some_and(|b| {
                        matches!(&b.target, Target::Cloak { board, .. } if board == cloak_board)
                    });
                    if named {
                        ids.push(*id);
                    }
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.iter()
            .filter_map(|id| inner.bans.get(id))
            .filter(|b| b.active(now) && board.is_none_or(|board| b.covers_board(board)))
            .cloned()
            .collect()
    }

    /// The ban to tell a poster about on `board`: the one that lasts longest.
    pub fn check(&self, keys: &Keys, board: &str, client: IpAddr, now: u64) -> Option<Arc<Ban>> {
        let applying = self.applying(keys, Some(board), client, now);
        applying
            .into_iter()
            .max_by_key(|b| b.expires_at.unwrap_or(u64::MAX))
    }

    /// Ids of the active bans on `cloak` (of any board), newest first.
    pub fn by_cloak(&self, cloak: &str) -> Vec<u64> {
        let inner = self.inner.read().unwrap();
        let mut ids = inner.cloaks.get(cloak).cloned().unwrap_or_default();
        ids.extend(
            inner
                .bans
                .values()
                .filter(|b| b.poster_cloak.as_deref() == Some(cloak))
                .map(|b| b.id),
        );
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.dedup();
        ids
    }
}

impl Inner {
    fn insert(&mut self, ban: Ban) {
        match &ban.target {
            Target::Network(net) => {
                let (v6, bits) = bits(net.addr());
                self.nets
                    .entry((v6, net.prefix()))
                    .or_default()
                    .entry(bits)
                    .or_default()
                    .push(ban.id);
            }
            Target::Cloak { board, cloak } => {
                self.cloaks.entry(cloak.clone()).or_default().push(ban.id);
                count(&mut self.cloak_boards, board, 1);
                if ban.board.as_deref() != Some(board.as_str()) {
                    count(&mut self.wide_cloak_boards, board, 1);
                }
            }
        }
        self.bans.insert(ban.id, Arc::new(ban));
    }

    fn remove(&mut self, id: u64) {
        let Some(ban) = self.bans.remove(&id) else {
            return;
        };
        let drop_id = |ids: &mut Vec<u64>| ids.retain(|&i| i != id);
        match &ban.target {
            Target::Network(net) => {
                let (v6, bits) = bits(net.addr());
                let key = (v6, net.prefix());
                if let Some(nets) = self.nets.get_mut(&key) {
                    if let Some(ids) = nets.get_mut(&bits) {
                        drop_id(ids);
                        if ids.is_empty() {
                            nets.remove(&bits);
                        }
                    }
                    if nets.is_empty() {
                        self.nets.remove(&key);
                    }
                }
            }
            Target::Cloak { board, cloak } => {
                if let Some(ids) = self.cloaks.get_mut(cloak) {
                    drop_id(ids);
                    if ids.is_empty() {
                        self.cloaks.remove(cloak);
                    }
                }
                count(&mut self.cloak_boards, board, -1);
                if ban.board.as_deref() != Some(board.as_str()) {
                    count(&mut self.wide_cloak_boards, board, -1);
                }
            }
        }
    }
}

/// Adds `by` to a board's count, dropping the board at zero.
fn count(counts: &mut BTreeMap<String, usize>, board: &str, by: isize) {
    let n = counts.entry(board.to_owned()).or_default();
    *n = n.saturating_add_signed(by);
    if *n == 0 {
        counts.remove(board);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bans::Net;

    fn ban(id: u64, board: Option<&str>, target: Target, expires_at: Option<u64>) -> Ban {
        Ban {
            id,
            board: board.map(str::to_owned),
            target,
            post: None,
            poster_cloak: None,
            reason: format!("ban {id}"),
            note: None,
            by: None,
            created_at: 0,
            expires_at,
            appeal: None,
        }
    }

    fn net(text: &str) -> Target {
        Target::Network(Net::parse(text).unwrap())
    }

    #[test]
    fn bans_apply_where_and_while_they_should() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(dir.path()).unwrap();
        let poster: IpAddr = "198.51.100.7".parse().unwrap();
        let cloak_b = keys.cloak("b", poster);
        let index = BanIndex::new([
            ban(1, Some("b"), net("10.0.0.0/8"), None),
            ban(2, None, net("2001:db8:1::/48"), None),
            ban(3, Some("b"), net("192.0.2.1"), Some(100)),
            ban(
                4,
                Some("b"),
                Target::Cloak {
                    board: "b".into(),
                    cloak: cloak_b.clone(),
                },
                None,
            ),
            ban(
                5,
                None,
                Target::Cloak {
                    board: "b".into(),
                    cloak: cloak_b.clone(),
                },
                None,
            ),
        ]);
        let ids = |board: Option<&str>, client: &str, now: u64| -> Vec<u64> {
            index
                .applying(&keys, board, client.parse().unwrap(), now)
                .iter()
                .map(|b| b.id)
                .collect()
        };
        let cases: &[(Option<&str>, &str, u64, &[u64])] = &[
            (Some("b"), "10.200.0.1", 0, &[1]),
            (Some("g"), "10.200.0.1", 0, &[]),
            (Some("b"), "11.0.0.1", 0, &[]),
            (Some("g"), "2001:db8:1:5::9", 0, &[2]),
            (Some("g"), "2001:db8:2::9", 0, &[]),
            (Some("b"), "::ffff:192.0.2.1", 99, &[3]),
            (Some("b"), "192.0.2.1", 100, &[]),
            (Some("b"), "198.51.100.7", 0, &[4, 5]),
            (Some("g"), "198.51.100.7", 0, &[5]),
            (Some("g"), "198.51.100.8", 0, &[]),
            (None, "198.51.100.7", 0, &[4, 5]),
            (None, "10.0.0.1", 0, &[1]),
        ];
        for (board, client, now, want) in cases {
            assert_eq!(
                ids(*board, client, *now),
                *want,
                "{board:?} {client} at {now}"
            );
        }
        index.remove(5);
        index.remove(1);
        assert_eq!(ids(Some("g"), "198.51.100.7", 0), Vec::<u64>::new());
        assert_eq!(ids(Some("b"), "10.0.0.1", 0), Vec::<u64>::new());
        assert_eq!(index.len(), 3);
        index.put(ban(3, Some("b"), net("192.0.2.0/24"), None));
        assert_eq!(ids(Some("b"), "192.0.2.200", 1000), vec![3]);
        assert_eq!(index.by_cloak(&cloak_b), vec![4]);
    }

    #[test]
    fn a_boards_ban_on_another_boards_cloak_applies_on_its_board() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(dir.path()).unwrap();
        let poster: IpAddr = "198.51.100.7".parse().unwrap();
        // A post moved from /t/ to /u/ after its address was erased keeps its /t/ cloak.
        let target = Target::Cloak {
            board: "t".into(),
            cloak: keys.cloak("t", poster),
        };
        let index = BanIndex::new([ban(1, Some("u"), target, None)]);
        let on = |board: &str| index.check(&keys, board, poster, 0).map(|b| b.id);
        assert_eq!(on("u"), Some(1));
        assert_eq!(on("t"), None, "the ban is on /u/ only");
        assert_eq!(on("v"), None);
        assert_eq!(
            index.check(&keys, "u", "198.51.100.8".parse().unwrap(), 0),
            None
        );
        index.remove(1);
        assert_eq!(on("u"), None);
        assert!(index.inner.read().unwrap().wide_cloak_boards.is_empty());
    }

    #[test]
    fn the_longest_ban_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(dir.path()).unwrap();
        let index = BanIndex::new([
            ban(1, Some("b"), net("10.0.0.0/8"), Some(50)),
            ban(2, None, net("10.1.0.0/16"), None),
            ban(3, None, net("10.1.1.1"), Some(70)),
        ]);
        let told = index.check(&keys, "b", "10.1.1.1".parse().unwrap(), 0);
        assert_eq!(told.map(|b| b.id), Some(2));
    }
}

#[cfg(test)]
mod measure {
    use std::time::Instant;

    use super::*;
    use crate::bans::Net;

    /// The cost of one check: `cargo test --release --lib bans::index::measure -- --ignored
    /// --nocapture`. 1 000 bans mixed as test/bench/moderation.sh gives them, against none.
    #[test]
    #[ignore]
    fn check_cost() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(dir.path()).unwrap();
        let mut bans = Vec::new();
        for i in 0..1000u64 {
            let (a, b) = (i % 256, (i * 7) % 256);
            let target = match i % 20 {
                0..=7 => Target::Network(Net::parse(&format!("10.{a}.{b}.1")).unwrap()),
                8..=11 => Target::Network(Net::parse(&format!("2001:db8:{a:x}:{b:x}::1")).unwrap()),
                12..=14 => Target::Network(
                    Net::parse(&format!(
                        "172.{}.{b}.0/{}",
                        16 + a % 16,
                        [16, 20, 24, 28][i as usize % 4]
                    ))
                    .unwrap(),
                ),
                15..=17 => Target::Network(
                    Net::parse(&format!(
                        "2a00:{a:x}:{b:x}::/{}",
                        [32, 40, 48, 56, 64][i as usize % 5]
                    ))
                    .unwrap(),
                ),
                _ => Target::Cloak {
                    board: "bench".into(),
                    cloak: format!("{i:012}"),
                },
            };
            bans.push(Ban {
                id: i + 1,
                board: (i % 5 != 0).then(|| "bench".to_owned()),
                target,
                post: None,
                poster_cloak: None,
                reason: "r".into(),
                note: None,
                by: None,
                created_at: 0,
                expires_at: (i % 3 == 0).then_some(u64::MAX),
                appeal: None,
            });
        }
        let clients: Vec<IpAddr> = ["127.0.0.1", "192.0.2.1", "2001:db8:ffff::1"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        for (label, index) in [("none", BanIndex::default()), ("1000", BanIndex::new(bans))] {
            let rounds = 200_000;
            let started = Instant::now();
            let mut refused = 0;
            for i in 0..rounds {
                let client = clients[i % clients.len()];
                refused += usize::from(index.check(&keys, "bench", client, 1).is_some());
            }
            let per = started.elapsed().as_nanos() as f64 / rounds as f64;
            println!("{label} bans: {per:.0} ns per check ({refused} refused)");
        }
    }
}
