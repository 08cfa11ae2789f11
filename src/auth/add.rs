//! `wani user add`: creating an account from the command line, for a server with signup closed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::password::Hasher;
use super::{normalize_username, Account, AccountsConfig, Role};
use crate::storage::{AccountWrite, Store, Write, Writer, Written};

/// What `wani user add` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub role: String,
    pub boards: Vec<String>,
}

impl NewUser {
    /// The socket command line: `user-add NAME ROLE BOARDS` (boards comma-separated, `-` for
    /// none). Usernames and board slugs hold no spaces, so the line splits on them.
    pub fn command(&self) -> String {
        let boards = if self.boards.is_empty() {
            "-".to_owned()
        } else {
            self.boards.join(",")
        };
        format!("user-add {} {} {boards}", self.username, self.role)
    }

    pub fn parse_command(rest: &str) -> Option<NewUser> {
        let mut words = rest.split(' ');
        let (username, role, boards) = (words.next()?, words.next()?, words.next()?);
        if words.next().is_some() {
            return None;
        }
        Some(NewUser {
            username: username.to_owned(),
            role: role.to_owned(),
            boards: match boards {
                "-" => Vec::new(),
                list => list.split(',').map(str::to_owned).collect(),
            },
        })
    }
}

/// A new random password: 128 bits, 22 characters of base64url.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Creates the account with `password`, checking the name, role and boards first. The error is
/// one sentence for the command line.
pub async fn add(
    store: &Store,
    writer: &Writer,
    hasher: &Hasher,
    config: &AccountsConfig,
    user: &NewUser,
    password: &str,
) -> Result<Account, String> {
    let username = normalize_username(&user.username).map_err(|e| e.message)?;
    let role = Role::parse(&user.role).ok_or_else(|| {
        let names: Vec<_> = Role::ALL.iter().map(|r| r.name()).collect();
        format!("role `{}` is not one of {}", user.role, names.join(", "))
    })?;
    let role = if config.is_admin(&username) {
        Role::Admin
    } else {
        role
    };
    if !role.has_boards() && !user.boards.is_empty() {
        return Err(format!(
            "a {} has no boards; --boards is for board_mod and janitor",
            role.name()
        ));
    }
    let reader = store.read().map_err(|e| e.message)?;
    for board in &user.boards {
        reader.require_board(board).map_err(|e| e.message)?;
    }
    drop(reader);
    let mut boards = user.boards.clone();
    boards.sort();
    boards.dedup();
    let hash = hasher.hash(password).await.map_err(|e| e.message)?;
    let account = Account {
        username,
        role,
        boards,
        hash,
        disabled: false,
        created_at: crate::storage::writer::unix_now(),
        email: None,
    };
    let write = Write::Account(AccountWrite::Create {
        account,
        session: None,
    });
    match writer.submit(write).await.map_err(|e| e.message)? {
        Written::Account(Some(account)) => Ok(account),
        _ => Err("the account was not written".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        let cases = [
            NewUser {
                username: "ann".into(),
                role: "board_mod".into(),
                boards: vec!["b".into(), "t".into()],
            },
            NewUser {
                username: "root".into(),
                role: "admin".into(),
                boards: vec![],
            },
        ];
        for user in cases {
            let line = user.command();
            let rest = line.strip_prefix("user-add ").unwrap();
            assert_eq!(NewUser::parse_command(rest), Some(user), "{line}");
        }
        assert_eq!(NewUser::parse_command("ann admin"), None);
        assert_eq!(NewUser::parse_command("ann admin - extra"), None);
        let password = generate_password();
        assert_eq!(password.len(), 22);
        assert_ne!(password, generate_password());
    }
}
