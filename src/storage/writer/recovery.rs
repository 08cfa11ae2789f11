//! Writes of password reset tokens: issuing one, spending it on a new password, and sweeping
//! the expired ones.

use redb::{ReadableTable, WriteTransaction};

use super::accounts::{end_sessions_of, load, save};
use super::{Applied, Written};
use crate::error::{ApiError, ErrorKind};
use crate::storage::{RESET_EXPIRY, RESET_TOKENS, USERS};

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
            txn.open_table(RESET_EXPIRY)?
                .insert((*expires_ms, key.as_slice()), ())?;
            Ok(Ok(Written::Reset(None)))
        }
        ResetWrite::Use { key, now_ms, hash } => {
            let removed = txn
                .open_table(RESET_TOKENS)?
                .remove(key.as_slice())?
                .map(|v| (v.value().0.to_owned(), v.value().1));
            if let Some((_, expires_ms)) = &removed {
                txn.open_table(RESET_EXPIRY)?
                    .remove((*expires_ms, key.as_slice()))?;
            }
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

/// Removes reset tokens that expired before `now_ms`, at most `limit`; returns how many. An
/// expired token is refused whether or not it was swept; sweeping keeps the table small.
pub(super) fn sweep(
    txn: &WriteTransaction,
    now_ms: u64,
    limit: usize,
) -> Result<usize, redb::Error> {
    let expired: Vec<(u64, Vec<u8>)> = {
        let expiry = txn.open_table(RESET_EXPIRY)?;
        let range = expiry.range::<(u64, &[u8])>(..(now_ms, &[][..]))?;
        range
            .take(limit)
            .map(|row| row.map(|(key, _)| (key.value().0, key.value().1.to_vec())))
            .collect::<Result<_, _>>()?
    };
    let mut expiry = txn.open_table(RESET_EXPIRY)?;
    let mut tokens = txn.open_table(RESET_TOKENS)?;
    for (expires_ms, key) in &expired {
        expiry.remove((*expires_ms, key.as_slice()))?;
        tokens.remove(key.as_slice())?;
    }
    Ok(expired.len())
}

pub fn invalid() -> ApiError {
    ApiError::new(
        ErrorKind::ResetTokenInvalid,
        "This reset token is unknown, used or expired; ask for a new one.",
    )
    .with_field("token")
}

#[cfg(test)]
mod tests {
    use redb::{ReadableDatabase, ReadableTableMetadata};

    use super::*;
    use crate::auth::{Account, Role};
    use crate::storage::{AccountWrite, Store, Write, Writer, RESET_EXPIRY};

    /// Rows in `reset_tokens` and `reset_expiry`, which must always agree.
    fn rows(store: &Store) -> [u64; 2] {
        let txn = store.db.begin_read().unwrap();
        [
            txn.open_table(RESET_TOKENS).unwrap().len().unwrap(),
            txn.open_table(RESET_EXPIRY).unwrap().len().unwrap(),
        ]
    }

    fn issue(n: u8, expires_ms: u64) -> Write {
        Write::Reset(ResetWrite::Issue {
            key: [n; 32],
            username: "ann".into(),
            expires_ms,
        })
    }

    #[tokio::test]
    async fn expired_reset_tokens_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let writer = Writer::start(&store, Box::new(|_| {}));
        let account = Account {
            username: "ann".into(),
            role: Role::User,
            boards: Vec::new(),
            hash: "$argon2id$old".into(),
            disabled: false,
            created_at: 1,
            email: None,
        };
        let create = AccountWrite::Create {
            account,
            session: None,
        };
        writer.submit(Write::Account(create)).await.unwrap();
        for (n, expires_ms) in [(1, 100), (2, 150), (3, 300), (4, 400)] {
            writer.submit(issue(n, expires_ms)).await.unwrap();
        }
        assert_eq!(rows(&store), [4, 4]);
        // Spending a token removes its expiry row too.
        let spend = |n: u8| {
            Write::Reset(ResetWrite::Use {
                key: [n; 32],
                now_ms: 50,
                hash: "$argon2id$new".into(),
            })
        };
        writer.submit(spend(4)).await.unwrap();
        assert_eq!(rows(&store), [3, 3]);

        let sweep = |now_ms| Write::Account(AccountWrite::Sweep { now_ms });
        assert_eq!(
            writer.submit(sweep(200)).await.unwrap(),
            Written::Swept { sessions: 2 }
        );
        assert_eq!(rows(&store), [1, 1]);
        let r = store.read().unwrap();
        assert_eq!(r.reset_token(&[1; 32]).unwrap(), None);
        assert_eq!(r.reset_token(&[2; 32]).unwrap(), None);
        assert_eq!(r.reset_token(&[3; 32]).unwrap(), Some(("ann".into(), 300)));
        drop(r);
        assert_eq!(
            writer.submit(sweep(200)).await.unwrap(),
            Written::Swept { sessions: 0 },
            "swept once"
        );
        // The one left still works until it expires.
        writer.submit(spend(3)).await.unwrap();
        assert_eq!(rows(&store), [0, 0]);
        writer.stop().await;
    }

    #[test]
    fn tokens_from_before_the_index_are_indexed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let txn = store.db.begin_write().unwrap();
        txn.open_table(RESET_TOKENS)
            .unwrap()
            .insert([9u8; 32].as_slice(), ("ann", 100))
            .unwrap();
        txn.open_table(crate::storage::META)
            .unwrap()
            .remove("reset_expiry_indexed")
            .unwrap();
        txn.commit().unwrap();
        assert_eq!(rows(&store), [1, 0]);
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(rows(&store), [1, 1]);
    }
}
