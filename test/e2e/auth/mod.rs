//! Accounts: signup, login, sessions, CSRF, roles and staff administration, each first broken,
//! then used. The server runs with the `[accounts]` of [`crate::session::ACCOUNTS`].

mod admin;
mod capcodes;
mod cli;
mod cookies;
mod csrf;
mod email;
mod flows;
mod login;
mod malformed;
mod recovery;
mod signup;
mod throttle;
mod tokens;
pub mod totp;

// Last: every secret the auth tests use, searched for in a server's whole log.
mod secrets;
