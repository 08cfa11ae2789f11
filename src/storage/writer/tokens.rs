//! Writes of API tokens.

use redb::{ReadableTable, WriteTransaction};

use super::{stored, Applied, Written};
use crate::auth::token::StoredToken;
use crate::auth::Account;
use crate::error::{ApiError, ErrorKind};
use crate::storage::{encode, TOKENS, TOKEN_EXPIRY, USERS, USER_TOKENS};

/// Tokens one user may hold at once, so listing them is bounded.
pub const MAX_TOKENS: usize = 100;

#[derive(Debug, Clone)]
pub enum TokenWrite {
    /// A new token under its storage key, for a live account holding fewer than
    /// [`MAX_TOKENS`].
    Create { key: [u8; 32], token: StoredToken },
    /// Removes the token `id` of `username`.
    Revoke { username: String, id: String },
    /// Records a use of the token.
    Touch { key: [u8; 32], at_ms: u64 },
}

pub(super) fn apply(txn: &WriteTransaction, write: &TokenWrite) -> Applied {
    match write {
        TokenWrite::Create { key, token } => {
            let account: Option<Account> = {
                let users = txn.open_table(USERS)?;
                let row = users.get(token.username.as_str())?;
                row.map(|v| stored(v.value())).transpose()?
            };
            if account.is_none_or(|a| a.disabled) {
                return Ok(Err(ApiError::new(
                    ErrorKind::AccountDisabled,
                    "This account is disabled.",
                )));
            }
            if ids_of(txn, &token.username)?.len() >= MAX_TOKENS {
                let message = format!("You hold {MAX_TOKENS} API tokens; revoke one first.");
                return Ok(Err(ApiError::new(ErrorKind::Forbidden, message)));
            }
            let k = key.as_slice();
            txn.open_table(TOKENS)?
                .insert(k, encode(token).as_slice())?;
            txn.open_table(TOKEN_EXPIRY)?
                .insert((token.expires_ms, k), ())?;
            txn.open_table(USER_TOKENS)?
                .insert((token.username.as_str(), token.id.as_str()), k)?;
            Ok(Ok(Written::Token(Some(token.clone()))))
        }
        TokenWrite::Revoke { username, id } => {
            let key = txn
                .open_table(USER_TOKENS)?
                .get((username.as_str(), id.as_str()))?
                .and_then(|v| <[u8; 32]>::try_from(v.value()).ok());
            let Some(key) = key else {
                return Ok(Err(ApiError::new(
                    ErrorKind::TokenInvalid,
                    format!("You hold no API token `{id}`."),
                )));
            };
            end_token(txn, &key)?;
            Ok(Ok(Written::Token(None)))
        }
        TokenWrite::Touch { key, at_ms } => {
            let mut tokens = txn.open_table(TOKENS)?;
            let found = tokens
                .get(key.as_slice())?
                .map(|v| stored::<StoredToken>(v.value()))
                .transpose()?;
            if let Some(mut token) = found {
                token.last_used_ms = Some(*at_ms);
                tokens.insert(key.as_slice(), encode(&token).as_slice())?;
            }
            Ok(Ok(Written::Token(None)))
        }
    }
}

fn end_token(txn: &WriteTransaction, key: &[u8; 32]) -> Result<(), redb::Error> {
    let removed = txn
        .open_table(TOKENS)?
        .remove(key.as_slice())?
        .map(|v| stored::<StoredToken>(v.value()))
        .transpose()?;
    if let Some(token) = removed {
        txn.open_table(TOKEN_EXPIRY)?
            .remove((token.expires_ms, key.as_slice()))?;
        txn.open_table(USER_TOKENS)?
            .remove((token.username.as_str(), token.id.as_str()))?;
    }
    Ok(())
}

fn ids_of(txn: &WriteTransaction, username: &str) -> Result<Vec<[u8; 32]>, redb::Error> {
    let table = txn.open_table(USER_TOKENS)?;
    let mut keys = Vec::new();
    for row in table.range::<(&str, &str)>((username, "")..)? {
        let (index, key) = row?;
        if index.value().0 != username {
            break;
        }
        if let Ok(key) = <[u8; 32]>::try_from(key.value()) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Ends every token of `username` (disabling or deleting the account).
pub(super) fn end_tokens_of(txn: &WriteTransaction, username: &str) -> Result<(), redb::Error> {
    for key in ids_of(txn, username)? {
        end_token(txn, &key)?;
    }
    Ok(())
}

/// Removes tokens that expired before `now_ms`, at most `limit`; returns how many.
pub(super) fn sweep(
    txn: &WriteTransaction,
    now_ms: u64,
    limit: usize,
) -> Result<usize, redb::Error> {
    let expired: Vec<[u8; 32]> = {
        let expiry = txn.open_table(TOKEN_EXPIRY)?;
        let mut keys = Vec::new();
        for row in expiry
            .range::<(u64, &[u8])>(..(now_ms, &[][..]))?
            .take(limit)
        {
            let (key, _) = row?;
            if let Ok(key) = <[u8; 32]>::try_from(key.value().1) {
                keys.push(key);
            }
        }
        keys
    };
    for key in &expired {
        end_token(txn, key)?;
    }
    Ok(expired.len())
}

#[cfg(test)]
mod tests {
    use redb::{ReadableDatabase, ReadableTableMetadata};

    use super::*;
    use crate::auth::token::Rights;
    use crate::auth::Role;
    use crate::storage::{AccountWrite, Store, Write, Writer};

    fn token(n: u8, username: &str, expires_ms: u64) -> TokenWrite {
        TokenWrite::Create {
            key: [n; 32],
            token: StoredToken {
                id: format!("{n:016x}"),
                username: username.into(),
                name: format!("t{n}"),
                scope: Rights::Read,
                boards: Vec::new(),
                created_ms: 1,
                expires_ms,
                last_used_ms: None,
            },
        }
    }

    /// Rows in the three token tables, which must always agree.
    fn token_rows(store: &Store) -> [u64; 3] {
        let txn = store.db.begin_read().unwrap();
        [
            txn.open_table(TOKENS).unwrap().len().unwrap(),
            txn.open_table(TOKEN_EXPIRY).unwrap().len().unwrap(),
            txn.open_table(USER_TOKENS).unwrap().len().unwrap(),
        ]
    }

    async fn write(writer: &Writer, w: TokenWrite) -> crate::error::ApiResult<Written> {
        writer.submit(Write::Token(w)).await
    }

    #[tokio::test]
    async fn tokens_stay_consistent_across_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let writer = Writer::start(&store, Box::new(|_| {}));
        for name in ["ann", "bob"] {
            let account = Account {
                username: name.into(),
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
        }
        let refused = write(&writer, token(9, "zed", 100)).await.unwrap_err();
        assert_eq!(refused.kind, ErrorKind::AccountDisabled, "no such account");
        write(&writer, token(1, "ann", 100)).await.unwrap();
        write(&writer, token(2, "ann", 300)).await.unwrap();
        write(&writer, token(3, "bob", 300)).await.unwrap();
        assert_eq!(token_rows(&store), [3, 3, 3]);
        let listed: Vec<_> = store.read().unwrap().tokens_of("ann").unwrap();
        assert_eq!(
            listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["t1", "t2"]
        );

        // A use is recorded on the token alone.
        let touch = TokenWrite::Touch {
            key: [2; 32],
            at_ms: 50,
        };
        write(&writer, touch).await.unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.token(&[2; 32]).unwrap().unwrap().last_used_ms, Some(50));
        assert_eq!(r.token(&[1; 32]).unwrap().unwrap().last_used_ms, None);
        drop(r);

        // Revoking takes only the owner's token of that id.
        let revoke = |username: &str, n: u8| TokenWrite::Revoke {
            username: username.into(),
            id: format!("{n:016x}"),
        };
        let theirs = write(&writer, revoke("bob", 2)).await.unwrap_err();
        assert_eq!(theirs.kind, ErrorKind::TokenInvalid);
        write(&writer, revoke("ann", 2)).await.unwrap();
        assert_eq!(token_rows(&store), [2, 2, 2]);

        // The session sweep takes expired tokens too.
        let sweep = AccountWrite::Sweep { now_ms: 200 };
        let swept = writer.submit(Write::Account(sweep)).await.unwrap();
        assert_eq!(swept, Written::Swept { sessions: 1 });
        assert_eq!(token_rows(&store), [1, 1, 1]);
        assert_eq!(store.read().unwrap().token(&[1; 32]).unwrap(), None);

        // Disabling an account ends its tokens, and it gets no new ones.
        let disable = AccountWrite::SetDisabled {
            username: "bob".into(),
            disabled: true,
        };
        writer.submit(Write::Account(disable)).await.unwrap();
        assert_eq!(token_rows(&store), [0, 0, 0]);
        let refused = write(&writer, token(4, "bob", 900)).await.unwrap_err();
        assert_eq!(refused.kind, ErrorKind::AccountDisabled);

        // At most MAX_TOKENS a user.
        for n in 0..MAX_TOKENS as u8 {
            write(&writer, token(n, "ann", 900)).await.unwrap();
        }
        let full = write(&writer, token(200, "ann", 900)).await.unwrap_err();
        assert_eq!(full.kind, ErrorKind::Forbidden);
        assert_eq!(token_rows(&store), [100, 100, 100]);
    }
}
