//! Each table's share of a database of 100 000 posts, and live-event replay speed, with events
//! stored as references and (for comparison) as whole posts, as schema version 1 stored them.
//! Run: `cargo test --release --lib storage::measure -- --ignored --nocapture`.

use std::time::Instant;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::writer::{apply_for_measure, Write};
use super::*;
use crate::model::PostDraft;

const POSTS_MADE: u64 = 100_000;
const PER_THREAD: u64 = 100;

/// The v1 form of the event log, kept beside the real one for the comparison.
const EVENTS_V1: TableDefinition<u64, &[u8]> = TableDefinition::new("events_v1");

fn draft(body: String) -> PostDraft {
    PostDraft {
        name: "Anonymous".into(),
        subject: None,
        body,
        sage: false,
        files: Vec::new(),
        trip: None,
        id_key: None,
        password: None,
        capcode: None,
        origin: None,
    }
}

/// A body of 100 to 400 characters; every third quotes the post before it and every tenth the OP.
fn body(i: u64, thread: u64) -> String {
    let mut body = String::new();
    if i.is_multiple_of(3) && i > thread {
        body.push_str(&format!(">>{}\n", i - 1));
    }
    if i.is_multiple_of(10) {
        body.push_str(&format!(">>{thread}\n"));
    }
    let words = 20 + (i * 7919) % 60;
    for w in 0..words {
        body.push_str(["lorem ", "ipsum ", "dolor ", "sit ", "amet "][((i + w) % 5) as usize]);
    }
    body
}

struct Share {
    name: &'static str,
    bytes: u64,
}

fn stats<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::ReadTransaction,
    def: TableDefinition<'static, K, V>,
    name: &'static str,
) -> Share {
    let table = txn.open_table(def).unwrap();
    let s = table.stats().unwrap();
    Share {
        name,
        bytes: s.stored_bytes() + s.metadata_bytes() + s.fragmented_bytes(),
    }
}

#[test]
#[ignore = "a measurement, run by hand (see the module docs)"]
fn table_shares_and_replay_speed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let board = Board {
        slug: "m".into(),
        title: "Measure".into(),
        thread_limit: 10_000,
        ..Board::default()
    };
    let mut next = 1;
    let mut batch = vec![Write::PutBoard(board)];
    let mut thread = 0;
    while next <= POSTS_MADE {
        if (next - 1) % PER_THREAD == 0 {
            thread = next;
            batch.push(Write::CreateThread {
                board: "m".into(),
                draft: draft(body(next, thread)),
            });
        } else {
            batch.push(Write::CreateReply {
                board: "m".into(),
                thread,
                draft: draft(body(next, thread)),
            });
        }
        next += 1;
        if batch.len() == 1000 || next > POSTS_MADE {
            let txn = store.db.begin_write().unwrap();
            let mut changes = Vec::new();
            for write in &batch {
                apply_for_measure(&txn, write, &mut changes);
            }
            // The same events as version 1 stored them: the published data, whole.
            {
                let mut v1 = txn.open_table(EVENTS_V1).unwrap();
                for change in &changes {
                    if let writer::Change::Live(p) = change {
                        let text = std::str::from_utf8(&p.frame).unwrap();
                        let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                        v1.insert(p.id, data.as_bytes()).unwrap();
                        if p.id > EVENTS_KEPT {
                            v1.remove(p.id - EVENTS_KEPT).unwrap();
                        }
                    }
                }
            }
            txn.commit().unwrap();
            batch.clear();
        }
    }

    let txn = store.db.begin_read().unwrap();
    let shares = [
        stats(&txn, POSTS, "posts"),
        stats(&txn, THREAD_POSTS, "thread_posts"),
        stats(&txn, THREADS, "threads"),
        stats(&txn, RECENT, "recent"),
        stats(&txn, QUOTES, "quotes"),
        stats(&txn, BACKLINKS, "backlinks"),
        stats(&txn, EVENTS, "events (references)"),
        stats(&txn, EVENTS_V1, "events (v1: whole posts)"),
    ];
    let v2_total: u64 = shares
        .iter()
        .filter(|s| !s.name.contains("v1"))
        .map(|s| s.bytes)
        .sum();
    let v1_total: u64 = shares
        .iter()
        .filter(|s| !s.name.contains("references"))
        .map(|s| s.bytes)
        .sum();
    println!("{POSTS_MADE} posts in threads of {PER_THREAD}, bodies of 100 to 400 characters");
    println!("{:<26} {:>10} {:>8} {:>8}", "table", "KiB", "% v1", "% v2");
    for s in &shares {
        let pct = |total: u64| 100.0 * s.bytes as f64 / total as f64;
        println!(
            "{:<26} {:>10} {:>7.1}% {:>7.1}%",
            s.name,
            s.bytes / 1024,
            if s.name.contains("references") {
                0.0
            } else {
                pct(v1_total)
            },
            if s.name.contains("v1") {
                0.0
            } else {
                pct(v2_total)
            },
        );
    }

    // Replay: every kept event, in batches of 256 as the live stream reads them.
    let reader = store.read().unwrap();
    let start = Instant::now();
    let mut after = 0;
    let mut replayed = 0;
    loop {
        let events = reader.events_after(after, 256).unwrap();
        let Some(last) = events.last() else { break };
        after = last.id;
        replayed += events.len();
    }
    let refs = start.elapsed();
    let start = Instant::now();
    let v1 = txn.open_table(EVENTS_V1).unwrap();
    let mut replayed_v1 = 0;
    for row in v1.iter().unwrap() {
        let (id, value) = row.unwrap();
        let event: crate::live::Event = serde_json::from_slice(value.value()).unwrap();
        std::hint::black_box(crate::live::Published::new(id.value(), &event));
        replayed_v1 += 1;
    }
    let whole = start.elapsed();
    println!(
        "replay of {replayed} events: references {:.0} ms ({:.1} µs each); whole posts (v1) \
         {:.0} ms ({:.1} µs each, {replayed_v1} events)",
        refs.as_secs_f64() * 1e3,
        refs.as_secs_f64() * 1e6 / replayed as f64,
        whole.as_secs_f64() * 1e3,
        whole.as_secs_f64() * 1e6 / replayed_v1 as f64,
    );
}
