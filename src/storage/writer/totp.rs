//! Writes of second factors: enrolment, confirmation, each use of a code, removal.

use redb::{ReadableTable, WriteTransaction};

use super::modlog::Note;
use super::{stored, Applied, Written};
use crate::auth::totp::{Proof, TotpState};
use crate::error::{ApiError, ErrorKind};
use crate::model::LogAction;
use crate::storage::{encode, TOTP, USERS};

#[derive(Debug, Clone)]
pub enum TotpWrite {
    /// A new pending secret, replacing a pending one; refused while one is active.
    Enrol { username: String, secret: String },
    /// Turns the pending `secret` on, its first code of `step` used, with recovery code hashes.
    Confirm {
        username: String,
        secret: String,
        step: u64,
        recovery: Vec<String>,
    },
    /// Consumes a code: a step later than the last one used, or an unused recovery code.
    Use { username: String, proof: Proof },
    /// Removes the second factor, pending or active.
    Remove { username: String },
    /// An admin removes a user's second factor, logged with the admin's reason.
    Clear {
        actor: String,
        username: String,
        reason: Option<String>,
        now: u64,
    },
}

pub(super) fn apply(txn: &WriteTransaction, write: &TotpWrite) -> Applied {
    match write {
        TotpWrite::Enrol { username, secret } => {
            if txn.open_table(USERS)?.get(username.as_str())?.is_none() {
                return Ok(Err(gone(username)));
            }
            if load(txn, username)?.is_some_and(|s| s.active) {
                return Ok(Err(conflict("TOTP is already on; turn it off first.")));
            }
            let state = TotpState {
                secret: secret.clone(),
                active: false,
                last_step: 0,
                recovery: Vec::new(),
            };
            save(txn, username, &state)?;
            Ok(Ok(Written::Totp))
        }
        TotpWrite::Confirm {
            username,
            secret,
            step,
            recovery,
        } => {
            let state = load(txn, username)?.filter(|s| !s.active && s.secret == *secret);
            let Some(mut state) = state else {
                return Ok(Err(conflict(
                    "No TOTP enrolment is waiting for confirmation; enrol first.",
                )));
            };
            state.active = true;
            state.last_step = *step;
            state.recovery = recovery.clone();
            save(txn, username, &state)?;
            Ok(Ok(Written::Totp))
        }
        TotpWrite::Use { username, proof } => {
            let Some(mut state) = load(txn, username)?.filter(|s| s.active) else {
                return Ok(Err(conflict("TOTP is not on for this account.")));
            };
            match proof {
                Proof::Step(step) if *step > state.last_step => state.last_step = *step,
                Proof::Recovery(hash) if state.recovery.contains(hash) => {
                    state.recovery.retain(|h| h != hash);
                }
                _ => return Ok(Err(failed())),
            }
            save(txn, username, &state)?;
            Ok(Ok(Written::Totp))
        }
        TotpWrite::Remove { username } => {
            if txn.open_table(TOTP)?.remove(username.as_str())?.is_none() {
                return Ok(Err(conflict("TOTP is not on for this account.")));
            }
            Ok(Ok(Written::Totp))
        }
        TotpWrite::Clear {
            actor,
            username,
            reason,
            now,
        } => {
            if txn.open_table(USERS)?.get(username.as_str())?.is_none() {
                return Ok(Err(gone(username)));
            }
            if txn.open_table(TOTP)?.remove(username.as_str())?.is_none() {
                return Ok(Err(conflict("TOTP is not on for this account.")));
            }
            let change = serde_json::json!({ "username": username });
            let note = Note {
                reason: reason.as_deref(),
                ..Note::new(Some(actor), LogAction::TotpClear, None, change)
            };
            super::modlog::append(txn, note, *now)?;
            Ok(Ok(Written::Totp))
        }
    }
}

/// A code already used (or used up) is refused like a wrong one.
pub fn failed() -> ApiError {
    ApiError::new(ErrorKind::TotpFailed, "The code is wrong or already used.").with_field("totp")
}

fn conflict(message: &str) -> ApiError {
    ApiError::new(ErrorKind::TotpConflict, message.to_owned())
}

fn gone(username: &str) -> ApiError {
    ApiError::new(
        ErrorKind::UserNotFound,
        format!("There is no user `{username}`."),
    )
}

fn load(txn: &WriteTransaction, username: &str) -> Result<Option<TotpState>, redb::Error> {
    let table = txn.open_table(TOTP)?;
    let row = table.get(username)?;
    row.map(|v| stored(v.value())).transpose()
}

fn save(txn: &WriteTransaction, username: &str, state: &TotpState) -> Result<(), redb::Error> {
    txn.open_table(TOTP)?
        .insert(username, encode(state).as_slice())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::{ReadableDatabase, ReadableTableMetadata};

    use super::*;
    use crate::auth::{Account, Role};
    use crate::model::LogEntry;
    use crate::storage::{AccountWrite, Store, Write, Writer, MOD_LOG};

    fn log(store: &Store) -> Vec<LogEntry> {
        let txn = store.db.begin_read().unwrap();
        let table = txn.open_table(MOD_LOG).unwrap();
        table
            .iter()
            .unwrap()
            .map(|row| crate::storage::decode(row.unwrap().1.value()).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn clearing_removes_the_factor_and_logs_only_what_happened() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let writer = Writer::start(&store, Box::new(|_| {}));
        let account = Account {
            username: "ann".into(),
            role: Role::User,
            boards: Vec::new(),
            hash: "$argon2id$...".into(),
            disabled: false,
            created_at: 1,
            email: None,
        };
        let create = AccountWrite::Create {
            account,
            session: None,
        };
        writer.submit(Write::Account(create)).await.unwrap();
        let enrol = TotpWrite::Enrol {
            username: "ann".into(),
            secret: "S".into(),
        };
        writer.submit(Write::Totp(enrol)).await.unwrap();
        let clear = |username: &str| {
            Write::Totp(TotpWrite::Clear {
                actor: "root".into(),
                username: username.into(),
                reason: Some("lost phone".into()),
                now: 42,
            })
        };
        let refused = [
            ("nobody", ErrorKind::UserNotFound),
            ("ann", ErrorKind::TotpConflict),
        ];
        writer.submit(clear("ann")).await.unwrap();
        for (name, kind) in refused {
            assert_eq!(writer.submit(clear(name)).await.unwrap_err().kind, kind);
        }
        let txn = store.db.begin_read().unwrap();
        assert_eq!(txn.open_table(TOTP).unwrap().len().unwrap(), 0);
        drop(txn);
        let entries = log(&store);
        assert_eq!(entries.len(), 1, "refused clears log nothing");
        let entry = &entries[0];
        assert_eq!(entry.action, LogAction::TotpClear);
        assert_eq!(entry.actor.as_deref(), Some("root"));
        assert_eq!(entry.board, None);
        assert_eq!(entry.reason.as_deref(), Some("lost phone"));
        assert_eq!(entry.change, serde_json::json!({ "username": "ann" }));
        assert_eq!(entry.at, 42);
        writer.stop().await;
    }
}
