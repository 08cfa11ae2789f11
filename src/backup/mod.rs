//! The S3 backup: every stored file mirrored to a bucket through a durable outbox, database
//! snapshots on a timer and on demand, read-through of files missing on disk, and the restore
//! and verify commands that rebuild a server from the bucket.
//!
//! ```text
//! <prefix>files/ab/cd/<sha256>.<ext>          originals, as on disk
//! <prefix>thumbs/ab/cd/<sha256>.webp          thumbnails
//! <prefix>trash/files/..., trash/thumbs/...   files no post carries any more; expired after 30 days
//! <prefix>snapshots/<name>.redb.zst           database snapshots, zstd-compressed
//! <prefix>snapshots/<name>.json               their manifests (written after the snapshot)
//! <prefix>secret.key                          the server secret (tripcodes, ids, passwords)
//! ```

pub mod admin;
mod outbox;
pub mod restore;
mod s3;
pub mod snapshot;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Notify;

pub use s3::Bucket;

use crate::app::App;
use crate::config::S3Config;
use crate::notify::{notify, Severity};
use crate::storage::{Write, Written};

/// The backup side of a running server.
pub struct Backup {
    pub bucket: Bucket,
    snapshot_interval: Duration,
    /// Rung when the writer queues jobs, so the worker never polls.
    wake: Notify,
    status: Mutex<Status>,
    /// One snapshot at a time, whoever asked.
    snapshotting: tokio::sync::Mutex<()>,
}

/// What `/healthz` reports about the backup.
#[derive(Debug, Clone, Default, Serialize)]
struct Status {
    /// Objects uploaded or moved since start.
    objects_done: u64,
    last_error: Option<String>,
    /// Unix seconds of the last error; cleared when a later attempt succeeds.
    last_error_at: Option<u64>,
    last_snapshot: Option<String>,
    last_snapshot_at: Option<u64>,
}

impl Backup {
    pub fn connect(config: &S3Config) -> Result<Backup, String> {
        Ok(Backup {
            bucket: Bucket::connect(config)?,
            snapshot_interval: config.snapshot_interval,
            wake: Notify::new(),
            status: Mutex::new(Status::default()),
            snapshotting: tokio::sync::Mutex::new(()),
        })
    }

    /// Unix seconds of the last snapshot this process uploaded.
    pub fn last_snapshot_at(&self) -> Option<u64> {
        self.status.lock().unwrap().last_snapshot_at
    }

    /// The writer queued jobs.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn failed(&self, event: &'static str, error: &str) {
        notify(Severity::Warning, event, error);
        let mut status = self.status.lock().unwrap();
        status.last_error = Some(error.to_owned());
        status.last_error_at = Some(crate::storage::writer::unix_now());
    }

    fn succeeded(&self, objects: u64) {
        let mut status = self.status.lock().unwrap();
        status.objects_done += objects;
        status.last_error = None;
        status.last_error_at = None;
    }

    /// Takes a snapshot of the running server's database and uploads it.
    pub async fn snapshot(&self, app: &App) -> Result<snapshot::Manifest, String> {
        let _one = self.snapshotting.lock().await;
        let taken = snapshot::take(&app.store, &self.bucket, &app.config.data_dir).await;
        match &taken {
            Ok(manifest) => {
                notify(
                    Severity::Info,
                    "snapshot_uploaded",
                    format_args!(
                        "snapshot {} ({} bytes compressed) in {}",
                        manifest.name,
                        manifest.compressed_bytes,
                        self.bucket.describe()
                    ),
                );
                let mut status = self.status.lock().unwrap();
                status.last_snapshot = Some(manifest.name.clone());
                status.last_snapshot_at = Some(manifest.created_at);
            }
            Err(e) => self.failed("snapshot_failed", e),
        }
        taken
    }
}

/// Starts the backup's background work on a running server: turns the mirror on (queueing
/// what was stored before S3 was configured), makes sure `trash/` expires, and runs the outbox
/// worker, the snapshot timer and the admin socket.
pub async fn start(app: &Arc<App>) -> Result<(), String> {
    admin::start(app);
    let mirror = app
        .writer
        .submit(Write::SetMirror(app.backup.is_some()))
        .await
        .map_err(|e| e.message)?;
    let Some(backup) = app.backup.clone() else {
        notify(
            Severity::Info,
            "backup_off",
            "no [s3] section: files and database live on the local disk alone",
        );
        return Ok(());
    };
    if let Written::Mirror { queued } = mirror {
        if queued > 0 {
            notify(
                Severity::Info,
                "backup_seeded",
                format_args!("queued {queued} stored files for their first upload"),
            );
        }
    }
    notify(
        Severity::Info,
        "backup_on",
        format_args!("backing up to {}", backup.bucket.describe()),
    );
    let trash = backup.clone();
    tokio::spawn(async move {
        if let Err(e) = trash.bucket.ensure_trash_expiry().await {
            notify(
                Severity::Warning,
                "trash_expiry_not_set",
                format_args!(
                    "{e}; set a lifecycle rule expiring {}trash/ after {} days by hand",
                    trash.bucket.key(""),
                    s3::TRASH_DAYS
                ),
            );
        }
    });
    tokio::spawn(outbox::run(app.clone(), backup.clone()));
    tokio::spawn(snapshot::every_interval(app.clone(), backup));
    Ok(())
}

/// The `backup` object of `/healthz`.
pub async fn health(app: &App) -> serde_json::Value {
    let Some(backup) = &app.backup else {
        return serde_json::json!({ "enabled": false });
    };
    let backlog = app.read(|r| r.outbox_len()).await.ok();
    /// The status's own fields follow `target` and `backlog` in the same object.
    #[derive(Serialize)]
    struct Enabled {
        enabled: bool,
        target: String,
        backlog: Option<u64>,
        #[serde(flatten)]
        status: Status,
    }
    let status = backup.status.lock().unwrap().clone();
    serde_json::to_value(Enabled {
        enabled: true,
        target: backup.bucket.describe(),
        backlog,
        status,
    })
    .expect("the backup state serializes")
}
