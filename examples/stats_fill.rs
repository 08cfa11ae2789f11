//! Fills a data directory with posts through the real writer, as fast as it commits them, for
//! `test/bench/stats.sh`: `stats_fill DATA_DIR POSTS BOARDS`. Each board gets threads of 100
//! posts; 512 tasks submit at once, so the writer commits full groups (one fsync for 512
//! posts). Every post goes through the same writer code as one made through the API (numbers,
//! rendering, events, recent list, the dashboard's counters); what the API adds before it
//! (parsing, flood control, poster records) is not the subject of the benchmark. Prints one
//! line with the count and the time it took.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use wani::model::{Board, PostDraft};
use wani::storage::{Store, Write, Writer, Written};

const PER_THREAD: u64 = 100;
const TASKS: u64 = 512;

fn draft(i: u64) -> PostDraft {
    PostDraft {
        name: "Anonymous".into(),
        subject: None,
        body: format!("post {i}: lorem ipsum dolor sit amet, consectetur adipiscing elit"),
        sage: false,
        files: Vec::new(),
        trip: None,
        id_key: None,
        password: None,
        capcode: None,
        origin: None,
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, posts, boards] = args.as_slice() else {
        eprintln!("usage: stats_fill DATA_DIR POSTS BOARDS");
        std::process::exit(2);
    };
    let posts: u64 = posts.parse().expect("POSTS is a number");
    let boards: u64 = boards.parse().expect("BOARDS is a number");
    let store = Store::open(std::path::Path::new(dir)).unwrap_or_else(|e| panic!("{e}"));
    let writer = Arc::new(Writer::start(&store, Box::new(|_: &[_]| {})));
    let threads_per_board = posts.div_ceil(PER_THREAD * boards);
    for b in 0..boards {
        let board = Board {
            slug: format!("b{b}"),
            title: format!("Bench {b}"),
            thread_limit: threads_per_board as u32 + 1,
            bump_limit: PER_THREAD as u32,
            max_replies: PER_THREAD as u32,
            ..Board::default()
        };
        writer.submit(Write::PutBoard(board)).await.expect("board");
    }
    let start = Instant::now();
    let made = Arc::new(AtomicU64::new(0));
    let total_threads = threads_per_board * boards;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (writer, made) = (writer.clone(), made.clone());
        tasks.push(tokio::spawn(async move {
            // Task `task` writes threads task, task + TASKS, ...: boards take turns.
            let mut t = task;
            while t < total_threads {
                let slug = format!("b{}", t % boards);
                let op = match writer
                    .submit(Write::CreateThread {
                        board: slug.clone(),
                        draft: draft(t),
                    })
                    .await
                {
                    Ok(Written::Post { no, .. }) => no,
                    other => panic!("thread: {other:?}"),
                };
                let mut n = made.fetch_add(1, Ordering::Relaxed) + 1;
                for r in 1..PER_THREAD {
                    if n >= posts {
                        break;
                    }
                    writer
                        .submit(Write::CreateReply {
                            board: slug.clone(),
                            thread: op,
                            draft: draft(r),
                        })
                        .await
                        .expect("reply");
                    n = made.fetch_add(1, Ordering::Relaxed) + 1;
                }
                if n >= posts {
                    return;
                }
                t += TASKS;
            }
        }));
    }
    for task in tasks {
        task.await.expect("a filling task");
    }
    writer.stop().await;
    println!(
        "{} posts on {boards} boards in {:.1} s",
        made.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
}
