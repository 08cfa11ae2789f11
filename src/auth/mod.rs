//! Staff and user accounts: roles, the caller of a request, usernames and password rules.
//!
//! Submodules: [`password`] hashes with argon2id, [`session`] signs cookies and derives CSRF
//! tokens, [`gate`] resolves the caller of a request and enforces a route's access,
//! [`throttle`] slows down password guessing, [`token`] holds the API tokens of scripts. Storage of users and sessions lives in
//! `crate::storage` like every table; the handlers are in `crate::api::auth` and
//! `crate::api::users`.

pub mod add;
pub mod config;
pub mod gate;
pub mod password;
pub mod session;
pub mod throttle;
pub mod token;
pub mod totp;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::{ApiError, ApiResult, ErrorKind};

pub use config::{AccountsConfig, Signup};

/// Longest username, in characters.
pub const MAX_USERNAME_CHARS: usize = 32;
/// Longest password, in characters: hashing cost must not grow with what a client sends.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// What an account may do. Posting needs no account; roles are for staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, on every board.
    Admin,
    /// Moderation on every board.
    GlobalMod,
    /// Moderation and settings of the boards assigned.
    BoardMod,
    /// Deleting posts and handling reports on the boards assigned.
    Janitor,
    /// No staff rights.
    User,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::GlobalMod,
        Role::BoardMod,
        Role::Janitor,
        Role::User,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::GlobalMod => "global_mod",
            Role::BoardMod => "board_mod",
            Role::Janitor => "janitor",
            Role::User => "user",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Whether boards are assigned to this role (the others have none, or all).
    pub fn has_boards(self) -> bool {
        matches!(self, Role::BoardMod | Role::Janitor)
    }
}

/// An account as stored (table `users`, keyed by the normalized username).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub role: Role,
    #[serde(default)]
    pub boards: Vec<String>,
    /// The argon2id hash in PHC string form; never served.
    pub hash: String,
    #[serde(default)]
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: u64,
}

impl Account {
    /// What the admin routes show of an account: everything but the hash.
    pub fn public_json(&self) -> serde_json::Value {
        serde_json::json!({
            "username": self.username,
            "role": self.role,
            "boards": self.boards,
            "disabled": self.disabled,
            "created_at": self.created_at,
        })
    }
}

/// Who made a request: resolved once by the pipeline from the session cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    pub username: String,
    pub role: Role,
    /// The boards assigned to a board moderator or janitor; empty for other roles.
    pub boards: Vec<String>,
    /// The session's key in storage (a hash of its id), so it can be ended or spared.
    #[serde(skip)]
    pub session: [u8; 32],
    /// The CSRF token of this session.
    #[serde(skip)]
    pub csrf: String,
    /// A staff account without TOTP while the config requires it: `role` is `user` until it
    /// enrols, and staff routes answer `totp_enrolment_required`.
    #[serde(skip)]
    pub needs_totp: bool,
}

impl Caller {
    /// Admins, global moderators, and the board moderators of `slug`.
    pub fn may_manage_board(&self, slug: &str) -> bool {
        match self.role {
            Role::Admin | Role::GlobalMod => true,
            Role::BoardMod => self.boards.iter().any(|b| b == slug),
            Role::Janitor | Role::User => false,
        }
    }

    /// [`Caller::may_manage_board`], and the janitors of `slug`: who deletes posts and files
    /// and handles reports there.
    pub fn may_clean_board(&self, slug: &str) -> bool {
        match self.role {
            Role::Admin | Role::GlobalMod => true,
            Role::BoardMod | Role::Janitor => self.boards.iter().any(|b| b == slug),
            Role::User => false,
        }
    }

    /// Whether this caller sees every board's reports and log entries (else only its boards').
    pub fn sees_all_boards(&self) -> bool {
        matches!(self.role, Role::Admin | Role::GlobalMod)
    }

    /// Whether this caller may post on `board` with `capcode`: `admin` for admins, `mod` for
    /// admins, global moderators and the board's moderators.
    pub fn may_use_capcode(&self, capcode: &str, board: &str) -> bool {
        match capcode {
            "admin" => self.role == Role::Admin,
            "mod" => self.may_manage_board(board),
            _ => false,
        }
    }

    /// The public part, as `GET /auth/csrf` and login answer it.
    pub fn user_json(&self) -> serde_json::Value {
        serde_json::json!({
            "username": self.username,
            "role": self.role,
            "boards": self.boards,
        })
    }
}

/// The one form of a username: Unicode NFKC, lower case, then checked. Two names that look
/// alike in these ways are the same account.
pub fn normalize_username(raw: &str) -> ApiResult<String> {
    let bad = |message: &str| {
        ApiError::new(ErrorKind::InvalidUsername, message.to_owned()).with_field("username")
    };
    let name: String = raw
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(bad("The username is empty."));
    }
    if chars > MAX_USERNAME_CHARS {
        return Err(bad(&format!(
            "The username is over {MAX_USERNAME_CHARS} characters."
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(bad(
            "A username holds only letters, digits, `_`, `-` and `.`.",
        ));
    }
    Ok(name)
}

/// The most common passwords of at least eight characters, lower case, one a line: the first
/// 10,000 entries of zxcvbn's `passwords` frequency list (from the zxcvbn 4.5.0 Python
/// package, MIT license, Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.), itself drawn
/// from Xato's ten million passwords corpus, released into the public domain by Mark Burnett.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// Refuses a new password that is too short, too long, or among the most common ones.
pub fn check_new_password(password: &str, min_chars: u32) -> ApiResult<()> {
    let weak =
        |message: String| ApiError::new(ErrorKind::WeakPassword, message).with_field("password");
    let chars = password.chars().count();
    if chars < min_chars as usize {
        return Err(weak(format!(
            "The password is shorter than {min_chars} characters."
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(ApiError::new(
            ErrorKind::TooLong,
            format!("The password is over {MAX_PASSWORD_CHARS} characters."),
        )
        .with_field("password"));
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.lines().any(|p| p == lower) {
        return Err(weak(
            "This password is among the most common ones; choose another.".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_normalize() {
        let long = "x".repeat(33);
        let cases = [
            ("Alice", Ok("alice")),
            ("ＡＬＩＣＥ", Ok("alice")),
            ("ﬁnn", Ok("finn")),
            ("mod_1.x-y", Ok("mod_1.x-y")),
            ("Ärger", Ok("ärger")),
            ("", Err(())),
            ("a b", Err(())),
            ("a/b", Err(())),
            ("a\u{200b}b", Err(())),
            (long.as_str(), Err(())),
        ];
        for (raw, expected) in cases {
            let got = normalize_username(raw).ok();
            assert_eq!(got.as_deref(), expected.ok(), "{raw:?}");
        }
    }

    #[test]
    fn passwords_are_checked() {
        assert!(check_new_password("correct horse battery", 8).is_ok());
        let cases = [
            ("short", ErrorKind::WeakPassword),
            ("password", ErrorKind::WeakPassword),
            ("PassWord1", ErrorKind::WeakPassword),
            ("baseball", ErrorKind::WeakPassword),
        ];
        for (password, kind) in cases {
            assert_eq!(
                check_new_password(password, 8).unwrap_err().kind,
                kind,
                "{password}"
            );
        }
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(
            check_new_password(&long, 8).unwrap_err().kind,
            ErrorKind::TooLong
        );
        assert!(COMMON_PASSWORDS.lines().count() > 3000);
    }

    #[test]
    fn board_rights() {
        let caller = |role, boards: &[&str]| Caller {
            username: "x".into(),
            role,
            boards: boards.iter().map(|b| (*b).to_owned()).collect(),
            session: [0; 32],
            csrf: String::new(),
            needs_totp: false,
        };
        let cases = [
            (Role::Admin, &[][..], "b", true),
            (Role::GlobalMod, &[], "b", true),
            (Role::BoardMod, &["b"], "b", true),
            (Role::BoardMod, &["b"], "t", false),
            (Role::Janitor, &["b"], "b", false),
            (Role::User, &[], "b", false),
        ];
        for (role, boards, slug, expected) in cases {
            assert_eq!(
                caller(role, boards).may_manage_board(slug),
                expected,
                "{role:?}"
            );
        }
        let capcodes = [
            (Role::Admin, &[][..], "admin", true),
            (Role::Admin, &[], "mod", true),
            (Role::GlobalMod, &[], "admin", false),
            (Role::GlobalMod, &[], "mod", true),
            (Role::BoardMod, &["b"], "mod", true),
            (Role::BoardMod, &["t"], "mod", false),
            (Role::Janitor, &["b"], "mod", false),
            (Role::User, &[], "mod", false),
            (Role::Admin, &[], "king", false),
        ];
        for (role, boards, capcode, expected) in capcodes {
            let got = caller(role, boards).may_use_capcode(capcode, "b");
            assert_eq!(got, expected, "{role:?} {boards:?} {capcode}");
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.name()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.name());
        }
    }
}
