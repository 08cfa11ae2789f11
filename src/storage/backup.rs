//! What the S3 backup needs from storage: consistent copies of the whole database, row counts,
//! the outbox, and the list of stored files.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use redb::{TableDefinition, TableHandle, WriteTransaction};

use super::{decode, each_table, storage_error, EachTable, Reader, Store, FILES, OUTBOX};
use crate::error::ApiResult;
use crate::model::{OutboxJob, StoredFile};

/// Rows per table, by table name.
pub type Counts = BTreeMap<String, u64>;

struct Copy<'a> {
    from: &'a ReadTransaction,
    to: &'a WriteTransaction,
    counts: Counts,
}

impl EachTable for Copy<'_> {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), redb::Error> {
        let from = self.from.open_table(def)?;
        let mut to = self.to.open_table(def)?;
        let mut rows = 0;
        for row in from.iter()? {
            let (key, value) = row?;
            to.insert(key.value(), value.value())?;
            rows += 1;
        }
        self.counts.insert(def.name().to_owned(), rows);
        Ok(())
    }
}

struct Count<'a> {
    txn: &'a ReadTransaction,
    counts: Counts,
}

impl EachTable for Count<'_> {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), redb::Error> {
        let rows = self.txn.open_table(def)?.len()?;
        self.counts.insert(def.name().to_owned(), rows);
        Ok(())
    }
}

impl Store {
    /// Copies every table, as one read transaction sees them, into a new database file at
    /// `path`. Writers go on meanwhile: the read transaction pins the state it started from.
    /// Blocking.
    pub fn snapshot_into(&self, path: &Path) -> Result<Counts, String> {
        (|| -> Result<Counts, redb::Error> {
            let from = self.db.begin_read()?;
            let mut target = Database::create(path)?;
            let to = target.begin_write()?;
            let mut copy = Copy {
                from: &from,
                to: &to,
                counts: Counts::new(),
            };
            each_table(&mut copy)?;
            let counts = copy.counts;
            to.commit()?;
            // One big transaction leaves free pages behind (a third of the file at 100 000
            // posts); compacting makes the restored database no larger than it needs to be.
            target.compact()?;
            Ok(counts)
        })()
        .map_err(|e| format!("snapshot of the database failed: {e}"))
    }

    /// Rows in every table now. Blocking.
    pub fn counts(&self) -> Result<Counts, String> {
        (|| -> Result<Counts, redb::Error> {
            let txn = self.db.begin_read()?;
            let mut count = Count {
                txn: &txn,
                counts: Counts::new(),
            };
            each_table(&mut count)?;
            Ok(count.counts)
        })()
        .map_err(|e| format!("counting rows failed: {e}"))
    }
}

impl Reader {
    /// The oldest `limit` backup jobs, in the order they were queued.
    pub fn outbox(&self, limit: usize) -> ApiResult<Vec<(u64, OutboxJob)>> {
        let table = self.txn.open_table(OUTBOX).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(storage_error)?.take(limit) {
            let (id, job) = row.map_err(storage_error)?;
            out.push((id.value(), decode(job.value())?));
        }
        Ok(out)
    }

    /// Backup jobs waiting.
    pub fn outbox_len(&self) -> ApiResult<u64> {
        let table = self.txn.open_table(OUTBOX).map_err(storage_error)?;
        table.len().map_err(storage_error)
    }

    /// Every stored file a committed post references.
    pub fn stored_files(&self) -> ApiResult<Vec<StoredFile>> {
        let table = self.txn.open_table(FILES).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(storage_error)? {
            out.push(decode(row.map_err(storage_error)?.1.value())?);
        }
        Ok(out)
    }
}
