//! Accounts: signup, login, sessions, CSRF, roles and staff administration, each first broken,
//! then used. The server runs with the `[accounts]` of [`crate::session::ACCOUNTS`].

mod admin;
mod capcodes;
mod cli;
mod cookies;
mod csrf;
mod flows;
mod login;
mod malformed;
mod signup;
mod throttle;
mod tokens;

// Last: every secret the auth tests use, searched for in a server's whole log.
mod secrets;
