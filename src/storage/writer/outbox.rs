//! The backup outbox: jobs for the S3 worker, queued in the transaction of the change that
//! caused them, so neither a crash nor an S3 outage can lose one.

use redb::{ReadableTable, WriteTransaction};

use super::{stored, Applied, Change, Written};
use crate::model::{OutboxJob, OutboxOp, StoredFile};
use crate::storage::{encode, FILES, META, OUTBOX};

/// Whether files are mirrored to S3 (`meta.mirror`); jobs are queued only then.
fn mirroring(txn: &WriteTransaction) -> Result<bool, redb::Error> {
    Ok(txn
        .open_table(META)?
        .get("mirror")?
        .is_some_and(|v| v.value() == 1))
}

/// Queues `op` for `file` when mirroring is on.
pub(super) fn queue(
    txn: &WriteTransaction,
    op: OutboxOp,
    file: &StoredFile,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    if mirroring(txn)? {
        push(txn, op, file)?;
        if !changes.contains(&Change::OutboxQueued) {
            changes.push(Change::OutboxQueued);
        }
    }
    Ok(())
}

fn push(txn: &WriteTransaction, op: OutboxOp, file: &StoredFile) -> Result<(), redb::Error> {
    let id = {
        let mut meta = txn.open_table(META)?;
        let id = meta.get("outbox_seq")?.map_or(0, |v| v.value()) + 1;
        meta.insert("outbox_seq", id)?;
        id
    };
    let job = OutboxJob {
        op,
        sha256: file.sha256.clone(),
        ext: file.ext.clone(),
        thumb_ext: file.thumb_ext.clone(),
    };
    txn.open_table(OUTBOX)?
        .insert(id, encode(&job).as_slice())?;
    Ok(())
}

/// Turns mirroring on or off. Turning it on queues an upload of every stored file, so a server
/// that gains S3 later backs up what it already had; turning it off drops the queue.
pub(super) fn set_mirror(txn: &WriteTransaction, on: bool, changes: &mut Vec<Change>) -> Applied {
    if mirroring(txn)? == on {
        return Ok(Ok(Written::Mirror { queued: 0 }));
    }
    txn.open_table(META)?.insert("mirror", u64::from(on))?;
    let mut queued = 0;
    if on {
        let files: Vec<StoredFile> = {
            let table = txn.open_table(FILES)?;
            let mut files = Vec::new();
            for row in table.iter()? {
                files.push(stored(row?.1.value())?);
            }
            files
        };
        for file in &files {
            push(txn, OutboxOp::Upload, file)?;
        }
        queued = files.len();
        if queued > 0 {
            changes.push(Change::OutboxQueued);
        }
    } else {
        txn.open_table(OUTBOX)?.retain(|_, _| false)?;
    }
    Ok(Ok(Written::Mirror { queued }))
}

/// Removes finished jobs.
pub(super) fn done(txn: &WriteTransaction, ids: &[u64]) -> Applied {
    let mut table = txn.open_table(OUTBOX)?;
    for id in ids {
        table.remove(*id)?;
    }
    Ok(Ok(Written::OutboxDone))
}
