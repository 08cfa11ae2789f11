//! Board settings kept in memory for the write path, dropped by the commits that change them.
//!
//! Every post needs its board's limits before its body is read. Reading them from the database
//! is a hop to a blocking thread and back (redb calls block), which cost a post two thread
//! wake-ups; a hit here costs a lock and a clone. Freshness follows the response cache's rule:
//! the commit listener drops a board before the write that changed it is answered, and a miss
//! that read the database while a change committed does not keep what it read (a generation
//! counter, noted before the read, tells). Only boards that exist are kept, so the map holds at
//! most one entry per board whatever slugs clients ask for.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::Board;
use crate::storage::Change;

#[derive(Default)]
pub struct BoardCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Advanced by every change of any board.
    generation: u64,
    boards: HashMap<String, Board>,
}

impl BoardCache {
    /// The board as last read, when no change dropped it since.
    pub fn get(&self, slug: &str) -> Option<Board> {
        self.inner.lock().unwrap().boards.get(slug).cloned()
    }

    /// The generation to note before reading a board from the database.
    pub fn generation(&self) -> u64 {
        self.inner.lock().unwrap().generation
    }

    /// Keeps `board`, read after [`BoardCache::generation`] returned `generation`, unless a
    /// board changed since (what was read may then be older than that change).
    pub fn insert(&self, generation: u64, board: &Board) {
        let mut inner = self.inner.lock().unwrap();
        if inner.generation == generation {
            inner.boards.insert(board.slug.clone(), board.clone());
        }
    }

    /// The commit listener's part: forget every board the changes touched.
    pub fn apply(&self, changes: &[Change]) {
        let mut touched = changes.iter().filter_map(|change| match change {
            Change::Board { board } | Change::BoardDeleted { board } => Some(board),
            _ => None,
        });
        let Some(first) = touched.next() else {
            return;
        };
        let mut inner = self.inner.lock().unwrap();
        inner.generation += 1;
        for board in std::iter::once(first).chain(touched) {
            inner.boards.remove(board);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(slug: &str, title: &str) -> Board {
        Board {
            slug: slug.into(),
            title: title.into(),
            ..Board::default()
        }
    }

    #[test]
    fn a_change_drops_its_board_and_refuses_a_read_that_raced_it() {
        let cache = BoardCache::default();
        let g = cache.generation();
        cache.insert(g, &board("a", "A"));
        cache.insert(g, &board("b", "B"));
        assert_eq!(cache.get("a").unwrap().title, "A");

        // A post's commit changes no board: both stay.
        cache.apply(&[Change::Reply {
            board: "a".into(),
            thread: 1,
            no: 2,
            bumped: true,
        }]);
        assert_eq!(cache.generation(), g);
        assert!(cache.get("a").is_some() && cache.get("b").is_some());

        // A reader notes the generation, reads the old settings; /a/ changes meanwhile.
        let noted = cache.generation();
        cache.apply(&[Change::Board { board: "a".into() }]);
        assert!(cache.get("a").is_none(), "the changed board is dropped");
        assert_eq!(cache.get("b").unwrap().title, "B", "the others stay");
        cache.insert(noted, &board("a", "A (old)"));
        assert!(cache.get("a").is_none(), "the raced read is not kept");

        // A read begun after the change is kept.
        cache.insert(cache.generation(), &board("a", "A2"));
        assert_eq!(cache.get("a").unwrap().title, "A2");

        cache.apply(&[Change::BoardDeleted { board: "a".into() }]);
        assert!(cache.get("a").is_none());
    }
}
