//! Writes of accounts and sessions.

use redb::{ReadableTable, WriteTransaction};

use super::{stored, Applied, Written};
use crate::auth::{Account, Role};
use crate::error::{ApiError, ErrorKind};
use crate::storage::{encode, SESSIONS, SESSION_EXPIRY, TOTP, USERS, USER_EMAILS, USER_SESSIONS};

/// Sessions removed by one sweep transaction, so a sweep never holds the writer for long.
pub const SWEEP_CHUNK: usize = 1000;

/// A session to open: its storage key and expiry (Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    pub key: [u8; 32],
    pub expires_ms: u64,
}

#[derive(Debug, Clone)]
pub enum AccountWrite {
    /// A new account, with a first session when it signed up itself.
    Create {
        account: Account,
        session: Option<Opening>,
    },
    /// A login: a new session, the account made admin when config says so, and its hash
    /// replaced when it was rehashed with new parameters.
    Login {
        username: String,
        session: Opening,
        make_admin: bool,
        rehash: Option<String>,
    },
    /// Moves a session's expiry.
    Renew {
        key: [u8; 32],
        expires_ms: u64,
    },
    EndSession {
        key: [u8; 32],
    },
    /// A new password hash; every session of the user but `keep` ends.
    SetPassword {
        username: String,
        hash: String,
        keep: Option<[u8; 32]>,
    },
    /// Removes the account and every session and API token of it.
    Delete {
        username: String,
    },
    /// Sets or removes (`None`) the account's email address; an address another account holds
    /// is refused.
    SetEmail {
        username: String,
        email: Option<String>,
    },
    SetRole {
        username: String,
        role: Role,
        boards: Vec<String>,
    },
    /// Disabling ends every session and API token of the user.
    SetDisabled {
        username: String,
        disabled: bool,
    },
    /// Removes sessions, then API tokens, then password reset tokens that expired before
    /// `now_ms`, at most [`SWEEP_CHUNK`] together.
    Sweep {
        now_ms: u64,
    },
}

pub(super) fn apply(txn: &WriteTransaction, write: &AccountWrite) -> Applied {
    match write {
        AccountWrite::Create { account, session } => {
            let mut users = txn.open_table(USERS)?;
            if users.get(account.username.as_str())?.is_some() {
                return Ok(Err(ApiError::new(
                    ErrorKind::UsernameTaken,
                    format!("The username `{}` is taken.", account.username),
                )
                .with_field("username")));
            }
            if let Some(email) = &account.email {
                if let Err(e) = claim_email(txn, email, &account.username)? {
                    return Ok(Err(e));
                }
            }
            users.insert(account.username.as_str(), encode(account).as_slice())?;
            drop(users);
            if let Some(session) = session {
                open_session(txn, &account.username, session)?;
            }
            Ok(Ok(Written::Account(Some(account.clone()))))
        }
        AccountWrite::Login {
            username,
            session,
            make_admin,
            rehash,
        } => {
            let Some(mut account) = load(txn, username)? else {
                return Ok(Err(gone(username)));
            };
            if account.disabled {
                return Ok(Err(disabled()));
            }
            if *make_admin {
                account.role = Role::Admin;
                account.boards.clear();
            }
            if let Some(hash) = rehash {
                account.hash = hash.clone();
            }
            save(txn, &account)?;
            open_session(txn, username, session)?;
            Ok(Ok(Written::Account(Some(account))))
        }
        AccountWrite::Renew { key, expires_ms } => {
            let mut sessions = txn.open_table(SESSIONS)?;
            let old = sessions
                .get(key.as_slice())?
                .map(|v| (v.value().0.to_owned(), v.value().1));
            if let Some((username, old_expiry)) = old {
                sessions.insert(key.as_slice(), (username.as_str(), *expires_ms))?;
                let mut expiry = txn.open_table(SESSION_EXPIRY)?;
                expiry.remove((old_expiry, key.as_slice()))?;
                expiry.insert((*expires_ms, key.as_slice()), ())?;
            }
            Ok(Ok(Written::Account(None)))
        }
        AccountWrite::EndSession { key } => {
            end_session(txn, key)?;
            Ok(Ok(Written::Account(None)))
        }
        AccountWrite::SetPassword {
            username,
            hash,
            keep,
        } => {
            let Some(mut account) = load(txn, username)? else {
                return Ok(Err(gone(username)));
            };
            account.hash = hash.clone();
            save(txn, &account)?;
            end_sessions_of(txn, username, *keep)?;
            Ok(Ok(Written::Account(Some(account))))
        }
        AccountWrite::Delete { username } => {
            let Some(account) = load(txn, username)? else {
                return Ok(Err(gone(username)));
            };
            txn.open_table(USERS)?.remove(username.as_str())?;
            if let Some(email) = &account.email {
                txn.open_table(USER_EMAILS)?.remove(email.as_str())?;
            }
            end_sessions_of(txn, username, None)?;
            txn.open_table(TOTP)?.remove(username.as_str())?;
            super::tokens::end_tokens_of(txn, username)?;
            Ok(Ok(Written::Account(None)))
        }
        AccountWrite::SetEmail { username, email } => {
            let Some(mut account) = load(txn, username)? else {
                return Ok(Err(gone(username)));
            };
            if account.email == *email {
                return Ok(Ok(Written::Account(Some(account))));
            }
            if let Some(new) = email {
                if let Err(e) = claim_email(txn, new, username)? {
                    return Ok(Err(e));
                }
            }
            if let Some(old) = &account.email {
                txn.open_table(USER_EMAILS)?.remove(old.as_str())?;
            }
            account.email = email.clone();
            save(txn, &account)?;
            Ok(Ok(Written::Account(Some(account))))
        }
        AccountWrite::SetRole {
            username,
            role,
            boards,
        } => {
            let Some(mut account) = load(txn, username)? else {
                return Ok(Err(gone(username)));
            };
            account.role = *role;
            account.boards = boards.clone();
            save(txn, &account)?;
            Ok(Ok(Written::Account(Some(account))))
        }
        AccountWrite::SetDisabled { username, disabled } => {
            let Some(mut account) = load(txn, username)? else {
                return Ok(Err(gone(username)));
            };
            account.disabled = *disabled;
            save(txn, &account)?;
            if *disabled {
                end_sessions_of(txn, username, None)?;
                super::tokens::end_tokens_of(txn, username)?;
            }
            Ok(Ok(Written::Account(Some(account))))
        }
        AccountWrite::Sweep { now_ms } => {
            let expired: Vec<[u8; 32]> = {
                let expiry = txn.open_table(SESSION_EXPIRY)?;
                let mut keys = Vec::new();
                for row in expiry
                    .range::<(u64, &[u8])>(..(*now_ms, &[][..]))?
                    .take(SWEEP_CHUNK)
                {
                    let (key, _) = row?;
                    if let Ok(key) = <[u8; 32]>::try_from(key.value().1) {
                        keys.push(key);
                    }
                }
                keys
            };
            for key in &expired {
                end_session(txn, key)?;
            }
            let tokens = super::tokens::sweep(txn, *now_ms, SWEEP_CHUNK - expired.len())?;
            let budget = SWEEP_CHUNK - expired.len() - tokens;
            let resets = super::recovery::sweep(txn, *now_ms, budget)?;
            Ok(Ok(Written::Swept {
                sessions: expired.len() + tokens + resets,
            }))
        }
    }
}

fn gone(username: &str) -> ApiError {
    ApiError::new(
        ErrorKind::UserNotFound,
        format!("There is no user `{username}`."),
    )
}

/// Records that `username` gave `email`, unless another account holds it.
fn claim_email(
    txn: &WriteTransaction,
    email: &str,
    username: &str,
) -> Result<Result<(), ApiError>, redb::Error> {
    let mut emails = txn.open_table(USER_EMAILS)?;
    let holder = emails.get(email)?.map(|v| v.value().to_owned());
    if holder.is_some_and(|h| h != username) {
        return Ok(Err(ApiError::new(
            ErrorKind::EmailTaken,
            "Another account gave this email address.",
        )
        .with_field("email")));
    }
    emails.insert(email, username)?;
    Ok(Ok(()))
}

fn disabled() -> ApiError {
    ApiError::new(ErrorKind::AccountDisabled, "This account is disabled.")
}

pub(super) fn load(txn: &WriteTransaction, username: &str) -> Result<Option<Account>, redb::Error> {
    let users = txn.open_table(USERS)?;
    let row = users.get(username)?;
    row.map(|v| stored(v.value())).transpose()
}

pub(super) fn save(txn: &WriteTransaction, account: &Account) -> Result<(), redb::Error> {
    txn.open_table(USERS)?
        .insert(account.username.as_str(), encode(account).as_slice())?;
    Ok(())
}

fn open_session(txn: &WriteTransaction, username: &str, s: &Opening) -> Result<(), redb::Error> {
    let key = s.key.as_slice();
    txn.open_table(SESSIONS)?
        .insert(key, (username, s.expires_ms))?;
    txn.open_table(SESSION_EXPIRY)?
        .insert((s.expires_ms, key), ())?;
    txn.open_table(USER_SESSIONS)?.insert((username, key), ())?;
    Ok(())
}

fn end_session(txn: &WriteTransaction, key: &[u8; 32]) -> Result<(), redb::Error> {
    let removed = txn
        .open_table(SESSIONS)?
        .remove(key.as_slice())?
        .map(|v| (v.value().0.to_owned(), v.value().1));
    if let Some((username, expires_ms)) = removed {
        txn.open_table(SESSION_EXPIRY)?
            .remove((expires_ms, key.as_slice()))?;
        txn.open_table(USER_SESSIONS)?
            .remove((username.as_str(), key.as_slice()))?;
    }
    Ok(())
}

/// Ends every session of `username` except `keep`. A user holds few sessions, so they are
/// collected at once.
pub(super) fn end_sessions_of(
    txn: &WriteTransaction,
    username: &str,
    keep: Option<[u8; 32]>,
) -> Result<(), redb::Error> {
    let keys: Vec<[u8; 32]> = {
        let table = txn.open_table(USER_SESSIONS)?;
        let mut keys = Vec::new();
        let end = [0xffu8; 33];
        for row in table.range::<(&str, &[u8])>((username, &[][..])..(username, &end[..]))? {
            let (key, _) = row?;
            if let Ok(key) = <[u8; 32]>::try_from(key.value().1) {
                keys.push(key);
            }
        }
        keys
    };
    for key in keys.iter().filter(|k| Some(**k) != keep) {
        end_session(txn, key)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::{ReadableDatabase, ReadableTableMetadata};

    use super::*;
    use crate::storage::{Store, Write, Writer};

    fn account(name: &str) -> Account {
        Account {
            username: name.into(),
            role: Role::User,
            boards: Vec::new(),
            hash: "$argon2id$...".into(),
            disabled: false,
            created_at: 1,
            email: None,
        }
    }

    fn opening(n: u8, expires_ms: u64) -> Opening {
        Opening {
            key: [n; 32],
            expires_ms,
        }
    }

    /// Rows in the three session tables, which must always agree.
    fn session_rows(store: &Store) -> [u64; 3] {
        let txn = store.db.begin_read().unwrap();
        [
            txn.open_table(SESSIONS).unwrap().len().unwrap(),
            txn.open_table(SESSION_EXPIRY).unwrap().len().unwrap(),
            txn.open_table(USER_SESSIONS).unwrap().len().unwrap(),
        ]
    }

    async fn write(writer: &Writer, w: AccountWrite) -> crate::error::ApiResult<Written> {
        writer.submit(Write::Account(w)).await
    }

    #[tokio::test]
    async fn sessions_stay_consistent_across_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let writer = Writer::start(&store, Box::new(|_| {}));
        let create = |name: &str, session| AccountWrite::Create {
            account: account(name),
            session,
        };
        write(&writer, create("ann", Some(opening(1, 100))))
            .await
            .unwrap();
        write(&writer, create("bob", Some(opening(2, 300))))
            .await
            .unwrap();
        let taken = write(&writer, create("ann", Some(opening(9, 100)))).await;
        assert_eq!(taken.unwrap_err().kind, ErrorKind::UsernameTaken);
        assert_eq!(
            session_rows(&store),
            [2, 2, 2],
            "a refused signup opens nothing"
        );
        let login = |n, expires| AccountWrite::Login {
            username: "ann".into(),
            session: opening(n, expires),
            make_admin: false,
            rehash: Some("$argon2id$new".into()),
        };
        write(&writer, login(3, 200)).await.unwrap();
        write(&writer, login(4, 400)).await.unwrap();
        assert_eq!(
            store.read().unwrap().account("ann").unwrap().unwrap().hash,
            "$argon2id$new"
        );
        assert_eq!(session_rows(&store), [4, 4, 4]);

        // Renewing moves the expiry row; a sweep at 250 takes ann's first session only.
        write(
            &writer,
            AccountWrite::Renew {
                key: [1; 32],
                expires_ms: 500,
            },
        )
        .await
        .unwrap();
        let swept = write(&writer, AccountWrite::Sweep { now_ms: 250 })
            .await
            .unwrap();
        assert_eq!(
            swept,
            Written::Swept { sessions: 1 },
            "session 3 expired at 200"
        );
        assert_eq!(session_rows(&store), [3, 3, 3]);
        let r = store.read().unwrap();
        assert_eq!(r.session(&[1; 32]).unwrap().unwrap().expires_ms, 500);
        assert_eq!(r.session(&[3; 32]).unwrap(), None);
        drop(r);

        // A new password ends ann's other sessions, not bob's.
        let set = AccountWrite::SetPassword {
            username: "ann".into(),
            hash: "$argon2id$newer".into(),
            keep: Some([4; 32]),
        };
        write(&writer, set).await.unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.session(&[1; 32]).unwrap(), None);
        assert!(r.session(&[4; 32]).unwrap().is_some());
        assert!(r.session(&[2; 32]).unwrap().is_some());
        drop(r);
        assert_eq!(session_rows(&store), [2, 2, 2]);

        // Disabling ends every session and refuses logins; deleting removes the account.
        let disable = AccountWrite::SetDisabled {
            username: "ann".into(),
            disabled: true,
        };
        write(&writer, disable).await.unwrap();
        assert_eq!(session_rows(&store), [1, 1, 1]);
        let refused = write(&writer, login(5, 900)).await.unwrap_err();
        assert_eq!(refused.kind, ErrorKind::AccountDisabled);
        assert_eq!(session_rows(&store), [1, 1, 1]);
        write(
            &writer,
            AccountWrite::Delete {
                username: "bob".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(session_rows(&store), [0, 0, 0]);
        let gone = write(
            &writer,
            AccountWrite::Delete {
                username: "bob".into(),
            },
        )
        .await;
        assert_eq!(gone.unwrap_err().kind, ErrorKind::UserNotFound);
        let role = AccountWrite::SetRole {
            username: "zed".into(),
            role: Role::Admin,
            boards: Vec::new(),
        };
        assert_eq!(
            write(&writer, role).await.unwrap_err().kind,
            ErrorKind::UserNotFound
        );
        writer.stop().await;
    }

    #[tokio::test]
    async fn an_email_address_belongs_to_one_account_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let writer = Writer::start(&store, Box::new(|_| {}));
        let with_email = |name: &str, email: &str| AccountWrite::Create {
            account: Account {
                email: Some(email.into()),
                ..account(name)
            },
            session: None,
        };
        let set = |name: &str, email: Option<&str>| AccountWrite::SetEmail {
            username: name.into(),
            email: email.map(str::to_owned),
        };
        let owner = |email: &str| {
            let r = store.read().unwrap();
            r.account_by_email(email).unwrap().map(|a| a.username)
        };
        write(&writer, with_email("ann", "a@x.org")).await.unwrap();
        let taken = write(&writer, with_email("bob", "a@x.org")).await;
        assert_eq!(taken.unwrap_err().kind, ErrorKind::EmailTaken);
        assert!(store.read().unwrap().account("bob").unwrap().is_none());
        write(&writer, with_email("bob", "b@x.org")).await.unwrap();
        let taken = write(&writer, set("bob", Some("a@x.org"))).await;
        assert_eq!(taken.unwrap_err().kind, ErrorKind::EmailTaken);
        assert_eq!(owner("b@x.org").as_deref(), Some("bob"));
        // Setting one's own address again changes nothing; a new one frees the old.
        write(&writer, set("ann", Some("a@x.org"))).await.unwrap();
        write(&writer, set("ann", Some("c@x.org"))).await.unwrap();
        assert_eq!(owner("a@x.org"), None);
        assert_eq!(owner("c@x.org").as_deref(), Some("ann"));
        write(&writer, set("bob", Some("a@x.org"))).await.unwrap();
        assert_eq!(owner("b@x.org"), None);
        write(&writer, set("bob", None)).await.unwrap();
        assert_eq!(owner("a@x.org"), None);
        let r = store.read().unwrap();
        assert_eq!(r.account("bob").unwrap().unwrap().email, None);
        drop(r);
        let gone = write(&writer, set("zed", Some("z@x.org"))).await;
        assert_eq!(gone.unwrap_err().kind, ErrorKind::UserNotFound);
        assert_eq!(owner("z@x.org"), None);
        // Deleting the account frees its address.
        let delete = AccountWrite::Delete {
            username: "ann".into(),
        };
        write(&writer, delete).await.unwrap();
        assert_eq!(owner("c@x.org"), None);
        write(&writer, with_email("cid", "c@x.org")).await.unwrap();
        writer.stop().await;
    }
}
