//! The JSON API's handlers, one module per resource. Each handler validates its input, reads
//! through the storage reader or the cache, and writes only through the writer; the route
//! table and the pipeline that calls these live in `http/`.

pub mod admin;
pub mod auth;
pub mod bans;
pub mod boards;
pub mod captcha;
pub mod email;
pub mod file_bans;
pub mod filters;
pub mod health;
pub mod moderation;
pub mod modlog;
pub mod posts;
pub mod recovery;
pub mod reports;
pub mod thread_actions;
pub mod threads;
pub mod tokens;
pub mod totp;
pub mod users;
