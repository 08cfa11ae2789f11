//! wani, an imageboard server: one process, an embedded redb database, a JSON API.
//!
//! `main.rs` parses the command line; [`run`] serves a bound listener until shutdown.

pub mod antispam;
pub mod api;
pub mod app;
pub mod auth;
pub mod backup;
pub mod bans;
pub mod cache;
pub mod config;
pub mod error;
pub mod filebans;
pub mod files;
pub mod filters;
pub mod fourchan;
pub mod http;
pub mod input;
pub mod limit;
pub mod live;
pub mod mail;
pub mod markup;
pub mod media;
pub mod model;
pub mod notify;
pub mod poster;
pub mod settings;
pub mod storage;
pub mod uploads;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use app::App;
pub use config::Config;

use notify::{notify, Severity};

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests, lets
/// the writer commit what it holds, and returns.
pub async fn run(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    notify(
        Severity::Info,
        "server_started",
        format_args!("listening on http://{addr}/"),
    );
    http::server::serve(listener, app.clone(), shutdown).await;
    app.writer.stop().await;
    // `wani backup` would otherwise find a socket nobody answers on.
    let _ = std::fs::remove_file(app.config.data_dir.join(backup::admin::SOCKET));
    notify(
        Severity::Info,
        "server_stopped",
        "all acknowledged writes are committed",
    );
}
