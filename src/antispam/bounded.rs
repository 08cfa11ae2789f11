//! A map that holds at most a fixed number of keys, forgetting the one written longest ago.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Keys each of the anti-spam maps holds at most: a client spraying addresses or bodies fills
/// a map to this and then only pushes out the oldest entries, whose windows have mostly passed.
pub const MAX_KEYS: usize = 65_536;

pub struct Bounded<K, V> {
    cap: usize,
    entries: HashMap<K, (V, u64)>,
    /// Write order, oldest first, for eviction in O(log n).
    order: BTreeMap<u64, K>,
    clock: u64,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    pub fn new(cap: usize) -> Bounded<K, V> {
        Bounded {
            cap: cap.max(1),
            entries: HashMap::new(),
            order: BTreeMap::new(),
            clock: 0,
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|(v, _)| v)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.entries.get_mut(key).map(|(v, _)| v)
    }

    /// Sets `key`, making it the newest; a full map first forgets its oldest key.
    pub fn insert(&mut self, key: K, value: V) {
        self.clock += 1;
        if let Some((_, old)) = self.entries.get(&key) {
            self.order.remove(old);
        } else if self.entries.len() >= self.cap {
            if let Some((_, oldest)) = self.order.pop_first() {
                self.entries.remove(&oldest);
            }
        }
        self.order.insert(self.clock, key.clone());
        self.entries.insert(key, (value, self.clock));
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let (value, at) = self.entries.remove(key)?;
        self.order.remove(&at);
        Some(value)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sprayed_map_stays_within_its_cap_and_forgets_the_oldest() {
        let mut map = Bounded::new(100);
        for i in 0..10_000u32 {
            map.insert(i, i);
            assert!(map.len() <= 100);
        }
        assert_eq!(map.len(), 100);
        assert_eq!(map.order.len(), 100, "the order index is bounded too");
        assert!(map.get(&9_899).is_none(), "older keys are gone");
        assert_eq!(map.get(&9_900), Some(&9_900));
        // Writing a key again makes it the newest, so it outlives the ones written before it.
        map.insert(9_900, 1);
        map.insert(20_000, 2);
        assert_eq!(map.get(&9_900), Some(&1));
        assert!(map.get(&9_901).is_none());
        assert_eq!(map.remove(&9_900), Some(1));
        assert_eq!((map.len(), map.order.len()), (99, 99));
    }
}
