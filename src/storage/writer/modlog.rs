//! The staff log: every staff action appends one entry in the same transaction as the action,
//! so the log never claims what did not happen and never misses what did.

use redb::{ReadableTable, WriteTransaction};
use serde_json::Value;

use crate::model::{LogAction, LogEntry};
use crate::storage::{encode, META, MOD_LOG, MOD_LOG_BOARDS};

/// One staff action as the writer logs it.
pub(super) struct Note<'a> {
    /// The staff account; `None` for the server itself (a board seeded from config).
    pub actor: Option<&'a str>,
    pub action: LogAction,
    /// The board acted on; `None` for a global action (a global ban, a role change).
    pub board: Option<&'a str>,
    /// What changed, for staff.
    pub change: Value,
    /// The reason given to the public (a ban's public reason); shown in a board's public log.
    pub reason: Option<&'a str>,
    /// A note for staff only; never shown in a public view.
    pub note: Option<&'a str>,
}

impl<'a> Note<'a> {
    /// An entry with neither a public reason nor a private note.
    pub fn new(
        actor: Option<&'a str>,
        action: LogAction,
        board: Option<&'a str>,
        change: Value,
    ) -> Self {
        Note {
            actor,
            action,
            board,
            change,
            reason: None,
            note: None,
        }
    }
}

/// Appends `note` to the staff log; returns the entry's id.
pub(super) fn append(txn: &WriteTransaction, note: Note, now: u64) -> Result<u64, redb::Error> {
    let id = {
        let mut meta = txn.open_table(META)?;
        let id = meta.get("mod_log_seq")?.map_or(0, |v| v.value()) + 1;
        meta.insert("mod_log_seq", id)?;
        id
    };
    let entry = LogEntry {
        id,
        at: now,
        actor: note.actor.map(str::to_owned),
        action: note.action,
        board: note.board.map(str::to_owned),
        change: note.change,
        reason: note.reason.map(str::to_owned),
        note: note.note.map(str::to_owned),
    };
    txn.open_table(MOD_LOG)?
        .insert(id, encode(&entry).as_slice())?;
    if let Some(board) = note.board {
        txn.open_table(MOD_LOG_BOARDS)?.insert((board, id), ())?;
    }
    Ok(id)
}
