//! The fan-out: who follows which board or thread, and the hub's thread that hands each
//! committed event to the followers that want it, then wakes each of them once.
//!
//! Each follower has a mailbox of its own: a short queue of shared frames and the waker of the
//! connection that sends them. The fan-out thread looks up the event's board, pushes the frame
//! (one reference count) into the mailbox of each follower of that board whose thread filter
//! takes it, and wakes those connections. A follower of another board is not touched at all,
//! and a follower does little per event but take its frames and write them: no channel
//! between the fan-out and the connection, no per-event registration in a shared list, one
//! poll of its one timer. Events queued together are delivered together, so a follower woken once takes
//! all of them and writes them in one go.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::Waker;

use tokio::sync::watch;

use super::Published;

/// Frames a mailbox holds for a follower that is not taking them (its socket is full) before
/// it is marked as lagging: its frames are dropped and it replays from the `events` table.
/// A lagging follower so costs at most this many pointers, whatever it stopped reading.
pub const MAILBOX: usize = 1024;

/// Events the fan-out thread takes off its queue at once: delivered under one lock, and each
/// follower is woken once for all of them.
const BATCH: usize = 64;

/// What a subscriber follows.
#[derive(Debug, Clone)]
pub struct Filter {
    pub board: String,
    pub thread: Option<u64>,
}

impl Filter {
    pub fn wants(&self, board: &str, thread: u64) -> bool {
        board == self.board && self.wants_thread(thread)
    }

    /// Thread 0 is a board-wide event, for every subscriber of the board.
    fn wants_thread(&self, thread: u64) -> bool {
        thread == 0 || self.thread.is_none_or(|t| t == thread)
    }
}

struct Mailbox {
    filter: Filter,
    /// Its place in its board's list; changed only under the registry's lock.
    index: AtomicUsize,
    inbox: Mutex<Inbox>,
}

#[derive(Default)]
struct Inbox {
    frames: VecDeque<Arc<Published>>,
    /// Frames were dropped: the follower must replay from the table.
    lagged: bool,
    /// The hub is closing: the stream ends once its frames are sent.
    closed: bool,
    /// The connection to wake; taken by the wake, set again when the follower waits.
    waker: Option<Waker>,
}

impl Mailbox {
    /// Puts the event in; returns the waker to call once the registry's lock is released.
    fn put(&self, event: &Arc<Published>) -> Option<Waker> {
        let mut inbox = self.inbox.lock().unwrap();
        if inbox.closed || inbox.lagged {
            // A lagging follower reads this event from the table.
            return None;
        }
        if inbox.frames.len() >= MAILBOX {
            inbox.frames = VecDeque::new();
            inbox.lagged = true;
        } else {
            inbox.frames.push_back(event.clone());
        }
        inbox.waker.take()
    }
}

#[derive(Default)]
struct Followers {
    boards: HashMap<String, Vec<Arc<Mailbox>>>,
    count: usize,
    closed: bool,
}

#[derive(Default)]
struct Registry {
    followers: Mutex<Followers>,
}

impl Registry {
    /// Puts each event into the mailboxes that want it, collecting the wakers to call.
    fn deliver(&self, events: &[Arc<Published>], wakers: &mut Vec<Waker>) {
        let followers = self.followers.lock().unwrap();
        for event in events {
            let Some(list) = followers.boards.get(event.board.as_str()) else {
                continue;
            };
            for mailbox in list {
                if mailbox.filter.wants_thread(event.thread) {
                    wakers.extend(mailbox.put(event));
                }
            }
        }
    }
}

/// The broadcast side, shared by the writer's listener and every subscriber.
pub struct Hub {
    registry: Arc<Registry>,
    /// To the fan-out thread, in commit order. Unbounded, but it only holds what the writer
    /// committed while the thread was delivering: a delivery costs the thread one lock and
    /// one wake per follower of the board, far less than a commit costs the writer.
    queue: mpsc::Sender<Published>,
    /// Flipped by [`Hub::close`], for the staff's report streams.
    pub(super) closing: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    /// Starts the fan-out thread; it ends when the hub is dropped.
    pub fn new() -> Hub {
        let registry = Arc::new(Registry::default());
        let (closing, _) = watch::channel(false);
        let (queue, queued) = mpsc::channel::<Published>();
        let fan_out = registry.clone();
        std::thread::Builder::new()
            .name("wani-live".into())
            .spawn(move || {
                let mut events = Vec::with_capacity(BATCH);
                let mut wakers = Vec::new();
                // The thread ends only with the hub, when the queue's sender is dropped.
                while let Ok(first) = queued.recv() {
                    events.push(Arc::new(first));
                    while events.len() < BATCH {
                        match queued.try_recv() {
                            Ok(event) => events.push(Arc::new(event)),
                            Err(_) => break,
                        }
                    }
                    fan_out.deliver(&events, &mut wakers);
                    events.clear();
                    // Outside the lock: subscribing and hanging up need not wait for this.
                    for waker in wakers.drain(..) {
                        waker.wake();
                    }
                }
            })
            .expect("spawning the live fan-out thread");
        Hub {
            registry,
            queue,
            closing,
        }
    }

    /// Called after a commit: queues the events for the fan-out thread and returns at once.
    pub fn publish(&self, events: impl IntoIterator<Item = Published>) {
        for event in events {
            // The thread ends only with the hub.
            let _ = self.queue.send(event);
        }
    }

    /// Registers a follower: from now on, every event published that `filter` wants is put in
    /// its mailbox. It is unregistered when dropped.
    pub fn follow(&self, filter: Filter) -> Follower {
        let mut followers = self.registry.followers.lock().unwrap();
        let closed = followers.closed;
        let list = followers.boards.entry(filter.board.clone()).or_default();
        let mailbox = Arc::new(Mailbox {
            filter,
            index: AtomicUsize::new(list.len()),
            inbox: Mutex::new(Inbox {
                closed,
                ..Inbox::default()
            }),
        });
        list.push(mailbox.clone());
        followers.count += 1;
        Follower {
            mailbox,
            registry: self.registry.clone(),
        }
    }

    /// Ends every stream once it has sent what it holds, so shutdown need not wait for
    /// subscribers to hang up.
    pub fn close(&self) {
        self.closing.send_replace(true);
        let mut wakers = Vec::new();
        {
            let mut followers = self.registry.followers.lock().unwrap();
            followers.closed = true;
            for mailbox in followers.boards.values().flatten() {
                let mut inbox = mailbox.inbox.lock().unwrap();
                inbox.closed = true;
                wakers.extend(inbox.waker.take());
            }
        }
        for waker in wakers {
            waker.wake();
        }
    }

    pub fn subscribers(&self) -> usize {
        self.registry.followers.lock().unwrap().count
    }
}

/// What [`Follower::take`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// Frames, in commit order, moved into the caller's queue.
    Frames,
    /// Nothing yet: the waker is woken when something comes.
    Nothing,
    /// Frames were dropped while the follower did not take them: replay from the table.
    Lagged,
    /// The hub is closing and everything was taken: end the stream.
    Closed,
}

/// One subscriber's registration with the hub.
pub struct Follower {
    mailbox: Arc<Mailbox>,
    registry: Arc<Registry>,
}

impl Follower {
    /// Moves what the mailbox holds into `into`, which must be empty (the two queues trade
    /// places, so neither allocates again), or registers `waker` when there is nothing.
    pub fn take(&self, waker: &Waker, into: &mut VecDeque<Arc<Published>>) -> Taken {
        debug_assert!(into.is_empty());
        let mut inbox = self.mailbox.inbox.lock().unwrap();
        if !inbox.frames.is_empty() {
            std::mem::swap(&mut inbox.frames, into);
            return Taken::Frames;
        }
        if inbox.closed {
            return Taken::Closed;
        }
        if inbox.lagged {
            inbox.lagged = false;
            return Taken::Lagged;
        }
        if !inbox.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            inbox.waker = Some(waker.clone());
        }
        Taken::Nothing
    }

    pub fn filter(&self) -> &Filter {
        &self.mailbox.filter
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let mut followers = self.registry.followers.lock().unwrap();
        followers.count -= 1;
        let board = self.mailbox.filter.board.as_str();
        let Some(list) = followers.boards.get_mut(board) else {
            return;
        };
        let index = self.mailbox.index.load(Ordering::Relaxed);
        list.swap_remove(index);
        if let Some(moved) = list.get(index) {
            moved.index.store(index, Ordering::Relaxed);
        }
        if list.is_empty() {
            followers.boards.remove(board);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Condvar;
    use std::task::Wake;
    use std::time::Duration;

    use super::*;
    use crate::live::Event;

    fn delete(board: &str, thread: u64, id: u64) -> Published {
        let event = Event::Delete {
            board: board.into(),
            thread,
            no: id,
        };
        Published::new(id, &event)
    }

    fn filter(board: &str, thread: Option<u64>) -> Filter {
        Filter {
            board: board.into(),
            thread,
        }
    }

    /// A waker that counts its wakes, and lets a test wait for the next one.
    #[derive(Default)]
    struct Flag {
        wakes: Mutex<usize>,
        woken: Condvar,
    }

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            *self.wakes.lock().unwrap() += 1;
            self.woken.notify_all();
        }
    }

    impl Flag {
        fn wakes(&self) -> usize {
            *self.wakes.lock().unwrap()
        }
    }

    /// Takes from `follower` until it has `n` ids, waiting for its waker between takes; fails
    /// instead of hanging when nothing comes.
    fn collect(follower: &Follower, n: usize) -> Vec<u64> {
        let flag = Arc::new(Flag::default());
        let waker = Waker::from(flag.clone());
        let (mut ids, mut taken) = (Vec::new(), VecDeque::new());
        while ids.len() < n {
            let seen = flag.wakes();
            match follower.take(&waker, &mut taken) {
                Taken::Frames => ids.extend(taken.drain(..).map(|e| e.id)),
                Taken::Nothing => {
                    let wakes = flag.wakes.lock().unwrap();
                    let (_wakes, timeout) = flag
                        .woken
                        .wait_timeout_while(wakes, Duration::from_secs(10), |w| *w == seen)
                        .unwrap();
                    assert!(!timeout.timed_out(), "no event after {ids:?}");
                }
                other => panic!("{other:?} after {ids:?}"),
            }
        }
        ids
    }

    #[test]
    fn publishing_never_waits_and_each_follower_gets_what_it_follows_in_order() {
        let hub = Hub::new();
        let stalled = hub.follow(filter("b", None));
        let board = hub.follow(filter("b", None));
        let thread = hub.follow(filter("b", Some(7)));
        let other = hub.follow(filter("c", None));
        // Far more than a mailbox holds, with one follower that never takes them: publish
        // returns every time, from a thread outside any runtime, as the writer's does. The
        // others take each round as it comes (a round fits in a mailbox).
        let total = MAILBOX as u64 * 3;
        let round = MAILBOX as u64 / 4;
        for start in (1..=total).step_by(round as usize) {
            let ids = start..start + round;
            // Every third event is for thread 7, every fifth board-wide (thread 0).
            let on = |id: u64| {
                if id.is_multiple_of(5) {
                    0
                } else {
                    7 + u64::from(!id.is_multiple_of(3))
                }
            };
            hub.publish(ids.clone().map(|id| delete("b", on(id), id)));
            let for_thread: Vec<u64> = ids.clone().filter(|id| on(*id) != 8).collect();
            assert_eq!(collect(&board, round as usize), ids.collect::<Vec<_>>());
            assert_eq!(collect(&thread, for_thread.len()), for_thread);
        }
        hub.publish([delete("c", 1, total + 1)]);
        assert_eq!(collect(&other, 1), [total + 1]);

        // The stalled follower was offered each event before `board` was (it registered
        // first): it overflowed, holds nothing, and must replay from the table.
        let (waker, mut taken) = (Waker::from(Arc::new(Flag::default())), VecDeque::new());
        assert_eq!(stalled.take(&waker, &mut taken), Taken::Lagged);
        assert_eq!(stalled.take(&waker, &mut taken), Taken::Nothing);
        assert!(stalled.mailbox.inbox.lock().unwrap().frames.capacity() <= MAILBOX);
        // It gets new events again.
        hub.publish([delete("b", 9, total + 2)]);
        assert_eq!(collect(&stalled, 1), [total + 2]);
        assert_eq!(collect(&board, 1), [total + 2]);
        assert_eq!(hub.subscribers(), 4);
    }

    #[test]
    fn events_queued_together_wake_a_follower_once() {
        let hub = Hub::new();
        let follower = hub.follow(filter("b", None));
        let flag = Arc::new(Flag::default());
        let waker = Waker::from(flag.clone());
        let mut taken = VecDeque::new();
        assert_eq!(follower.take(&waker, &mut taken), Taken::Nothing);
        // Published in one call, they reach the fan-out thread together (or, if it takes the
        // first alone, in two deliveries): the follower is woken once per delivery, not per
        // event, since a wake takes its waker until it waits again.
        hub.publish((1..=10).map(|id| delete("b", 1, id)));
        let ids = collect(&follower, 10);
        assert_eq!(ids, (1..=10).collect::<Vec<_>>());
        assert!(flag.wakes() <= 2, "{} wakes", flag.wakes());
    }

    #[test]
    fn hanging_up_unregisters_and_keeps_the_others_reachable() {
        let hub = Hub::new();
        let followers: Vec<Follower> = (0..5).map(|_| hub.follow(filter("b", None))).collect();
        let mut followers: Vec<Option<Follower>> = followers.into_iter().map(Some).collect();
        // Drop from the middle, the end and the start: the list moves the last into the gap.
        for i in [2, 4, 0] {
            followers[i] = None;
        }
        assert_eq!(hub.subscribers(), 2);
        hub.publish([delete("b", 1, 1)]);
        for follower in followers.iter().flatten() {
            assert_eq!(collect(follower, 1), [1]);
        }
        drop(followers);
        assert_eq!(hub.subscribers(), 0);
        assert!(hub.registry.followers.lock().unwrap().boards.is_empty());
    }

    #[test]
    fn closing_ends_each_stream_after_what_it_holds() {
        let hub = Hub::new();
        let open = hub.follow(filter("b", None));
        // Offered each event after `open`: once it has one, `open` has it too.
        let witness = hub.follow(filter("b", None));
        hub.publish([delete("b", 1, 1)]);
        assert_eq!(collect(&open, 1), [1]);
        hub.publish([delete("b", 1, 2)]);
        hub.publish([delete("b", 1, 3)]);
        assert_eq!(collect(&witness, 3), [1, 2, 3]);
        hub.close();
        let (waker, mut taken) = (Waker::from(Arc::new(Flag::default())), VecDeque::new());
        assert_eq!(open.take(&waker, &mut taken), Taken::Frames);
        assert_eq!(taken.drain(..).map(|e| e.id).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(open.take(&waker, &mut taken), Taken::Closed);
        let late = hub.follow(filter("b", None));
        assert_eq!(late.take(&waker, &mut taken), Taken::Closed);
    }

    #[test]
    fn board_wide_events_reach_every_subscriber_of_the_board() {
        let board = filter("b", None);
        let thread = filter("b", Some(7));
        // (board, thread of the event) → (board subscriber wants it, thread subscriber wants it)
        let cases = [
            (("b", 7), (true, true)),
            (("b", 8), (true, false)),
            (("b", 0), (true, true)),
            (("c", 0), (false, false)),
            (("c", 7), (false, false)),
        ];
        for ((b, t), expected) in cases {
            assert_eq!((board.wants(b, t), thread.wants(b, t)), expected, "{b} {t}");
        }
    }
}
