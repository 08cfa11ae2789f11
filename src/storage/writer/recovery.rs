//! Writes of password reset tokens: issuing one, and spending it on a new password.

use redb::{ReadableTable, WriteTransaction};

use super::accounts::{end_sessions_of, load, save};
use super::{Applied, Written};
use crate::error::{ApiError, ErrorKind};
use crate::storage::{RESET_TOKENS, USERS};

#[derive(Debug, Clone)]
pub enum ResetWrite {
    /// Stores a token's hash for `username`, valid until `expires_ms`.
    Issue {
        key: [u8; 32],
        username: String,
        expires_ms: u64,
    },
    /// Spends a token: it is removed whatever happens; when it was live, the account gets
    /// `hash` and every session of it ends.
    Use {
        key: [u8; 32],
        now_ms: u64,
        hash: String,
    },
}

pub(super) fn apply(txn: &WriteTransaction, write: &ResetWrite) -> Applied {
    match write {
        ResetWrite::Issue {
            key,
            username,
            expires_ms,
        } => {
            if txn.open_table(USERS)?.get(username.as_str())?.is_none() {
                return Ok(Err(ApiError::new(
                    ErrorKind::UserNotFound,
                    format!("There is no user `{username}`."),
                )));
            }
            txn.open_table(RESET_TOKENS)?
                .insert(key.as_slice(), (username.as_str(), *expires_ms))?;
            Ok(Ok(Written::Reset(None)))
        }
        ResetWrite::Use { key, now_ms, hash } => {
            let removed = txn
                .open_table(RESET_TOKENS)?
                .remove(key.as_slice())?
                .map(|v| (v.value().0.to_owned(), v.value().1));
            let live = removed.filter(|(_, expires_ms)| *expires_ms > *now_ms);
            let Some((username, _)) = live else {
                return Ok(Err(invalid()));
            };
            let Some(mut account) = load(txn, &username)? else {
                return Ok(Err(invalid()));
            };
            account.hash = hash.clone();
            save(txn, &account)?;
            end_sessions_of(txn, &username, None)?;
            Ok(Ok(Written::Reset(Some(username))))
        }
    }
}

pub fn invalid() -> ApiError {
    ApiError::new(
        ErrorKind::ResetTokenInvalid,
        "This reset token is unknown, used or expired; ask for a new one.",
    )
    .with_field("token")
}
