//! The outbox worker: drains the backup jobs the writer queued, oldest first, retrying with
//! exponential backoff while S3 is unreachable. Jobs stay in the database until done, so a
//! restart or an outage only delays them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use super::Backup;
use crate::app::App;
use crate::error::ErrorKind;
use crate::files::{relative, serve::mime, Tree};
use crate::model::{OutboxJob, OutboxOp};
use crate::notify::{notify, Severity};
use crate::storage::Write;

/// Jobs read per round.
const BATCH: usize = 64;
/// Files transferred at once.
const PARALLEL: usize = 8;
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

pub(super) async fn run(app: Arc<App>, backup: Arc<Backup>) {
    let mut retry = FIRST_RETRY;
    loop {
        let jobs = match app.read(|r| r.outbox(BATCH)).await {
            Ok(jobs) => jobs,
            Err(_) => {
                tokio::time::sleep(retry).await;
                continue;
            }
        };
        if jobs.is_empty() {
            // A wake that came after the read left a permit, so this never sleeps through one.
            backup.wake.notified().await;
            continue;
        }
        let (done, objects, error) = run_batch(&app, &backup, jobs).await;
        if !done.is_empty() {
            match app.writer.submit(Write::OutboxDone(done)).await {
                Ok(_) => {}
                Err(e) if e.kind == ErrorKind::Unavailable => return,
                Err(e) => notify(Severity::Warning, "outbox_done_failed", e.message),
            }
        }
        match error {
            None => {
                backup.succeeded(objects);
                retry = FIRST_RETRY;
            }
            Some(e) => {
                backup.failed("backup_upload_failed", &e);
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LAST_RETRY);
            }
        }
    }
}

/// Runs a batch: the jobs of one file in order, different files in parallel. Returns the ids
/// done, the objects transferred, and the first error (the failed job and the later jobs of its
/// file stay queued).
async fn run_batch(
    app: &App,
    backup: &Backup,
    jobs: Vec<(u64, OutboxJob)>,
) -> (Vec<u64>, u64, Option<String>) {
    let mut order: Vec<String> = Vec::new();
    let mut by_file: HashMap<String, Vec<(u64, OutboxJob)>> = HashMap::new();
    for (id, job) in jobs {
        if !by_file.contains_key(&job.sha256) {
            order.push(job.sha256.clone());
        }
        by_file
            .entry(job.sha256.clone())
            .or_default()
            .push((id, job));
    }
    let groups = order.into_iter().filter_map(|sha| by_file.remove(&sha));
    let results: Vec<(Vec<u64>, u64, Option<String>)> = stream::iter(groups)
        .map(|group| async move {
            let mut done = Vec::new();
            let mut objects = 0;
            for (id, job) in group {
                match run_job(app, backup, &job).await {
                    Ok(n) => {
                        done.push(id);
                        objects += n;
                    }
                    Err(e) => return (done, objects, Some(e)),
                }
            }
            (done, objects, None)
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut done = Vec::new();
    let mut objects = 0;
    let mut error = None;
    for (ids, n, e) in results {
        done.extend(ids);
        objects += n;
        error = error.or(e);
    }
    (done, objects, error)
}

/// One job; returns the objects it transferred.
async fn run_job(app: &App, backup: &Backup, job: &OutboxJob) -> Result<u64, String> {
    let mut objects = 0;
    for (tree, ext) in [(Tree::Originals, &job.ext), (Tree::Thumbs, &job.thumb_ext)] {
        let key = relative(tree, &job.sha256, ext);
        match job.op {
            OutboxOp::Upload => {
                let path = app.files.path(tree, &job.sha256, ext);
                if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
                    // Deleted before its upload came up; the trash job that follows finds
                    // nothing to move.
                    continue;
                }
                let sha256 = (tree == Tree::Originals).then_some(job.sha256.as_str());
                backup
                    .bucket
                    .put_file(&key, &path, mime(ext), sha256)
                    .await?;
                objects += 1;
            }
            OutboxOp::Trash => {
                if backup.bucket.trash(&key).await? {
                    objects += 1;
                }
            }
        }
    }
    Ok(objects)
}
