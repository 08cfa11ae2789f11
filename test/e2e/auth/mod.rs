//! Accounts: signup, login, sessions, CSRF, roles and staff administration, each first broken,
//! then used. The server runs with the `[accounts]` of [`crate::session::ACCOUNTS`].

mod admin;
mod cookies;
mod csrf;
mod login;
mod signup;
mod tokens;
