//! Reads of accounts and sessions, and the one-time index of reset tokens by expiry.

use redb::{ReadableTable, WriteTransaction};

use super::{
    decode, storage_error, Reader, META, RESET_EXPIRY, RESET_TOKENS, SESSIONS, TOTP, USERS,
    USER_EMAILS,
};
use crate::auth::totp::TotpState;
use crate::auth::Account;
use crate::error::ApiResult;

/// A stored session: whose it is and when it expires (Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub username: String,
    pub expires_ms: u64,
}

impl Reader {
    /// The account of a normalized username.
    pub fn account(&self, username: &str) -> ApiResult<Option<Account>> {
        let table = self.txn.open_table(USERS).map_err(storage_error)?;
        let row = table.get(username).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    /// The account that gave a normalized email address.
    pub fn account_by_email(&self, email: &str) -> ApiResult<Option<Account>> {
        let emails = self.txn.open_table(USER_EMAILS).map_err(storage_error)?;
        let username = emails.get(email).map_err(storage_error)?;
        match username {
            Some(name) => self.account(name.value()),
            None => Ok(None),
        }
    }

    /// Accounts in username order, after `after`, at most `limit`.
    pub fn accounts(&self, after: Option<&str>, limit: usize) -> ApiResult<Vec<Account>> {
        let table = self.txn.open_table(USERS).map_err(storage_error)?;
        let range = match after {
            Some(after) => table.range::<&str>(after..),
            None => table.iter(),
        }
        .map_err(storage_error)?;
        let mut out = Vec::new();
        for row in range {
            let (key, value) = row.map_err(storage_error)?;
            if Some(key.value()) == after {
                continue;
            }
            out.push(decode(value.value())?);
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// A session by its storage key, expired or not.
    pub fn session(&self, key: &[u8; 32]) -> ApiResult<Option<StoredSession>> {
        let table = self.txn.open_table(SESSIONS).map_err(storage_error)?;
        let row = table.get(key.as_slice()).map_err(storage_error)?;
        Ok(row.map(|v| {
            let (username, expires_ms) = v.value();
            StoredSession {
                username: username.to_owned(),
                expires_ms,
            }
        }))
    }

    /// An account's second factor, pending or active.
    pub fn totp(&self, username: &str) -> ApiResult<Option<TotpState>> {
        let table = self.txn.open_table(TOTP).map_err(storage_error)?;
        let row = table.get(username).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    /// The user and expiry (Unix milliseconds) of a password reset token, by its hash.
    pub fn reset_token(&self, key: &[u8; 32]) -> ApiResult<Option<(String, u64)>> {
        let table = self.txn.open_table(RESET_TOKENS).map_err(storage_error)?;
        let row = table.get(key.as_slice()).map_err(storage_error)?;
        Ok(row.map(|v| (v.value().0.to_owned(), v.value().1)))
    }
}

/// Fills `reset_expiry` from `reset_tokens`, once: a database written before the index existed
/// holds tokens the sweeper would otherwise never find. Reset tokens live an hour or so, so
/// there are few.
pub(super) fn index_reset_expiry(txn: &WriteTransaction) -> Result<(), redb::Error> {
    let mut meta = txn.open_table(META)?;
    if meta.get("reset_expiry_indexed")?.is_some() {
        return Ok(());
    }
    let tokens = txn.open_table(RESET_TOKENS)?;
    let mut expiry = txn.open_table(RESET_EXPIRY)?;
    for row in tokens.iter()? {
        let (key, value) = row?;
        expiry.insert((value.value().1, key.value()), ())?;
    }
    meta.insert("reset_expiry_indexed", 1)?;
    Ok(())
}
