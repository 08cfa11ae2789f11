//! `GET /healthz`: liveness and the facts an operator checks first.

use std::sync::Arc;

use hyper::HeaderMap;

use crate::app::App;
use crate::cache::Cached;
use crate::error::ApiResult;
use crate::http::{response, Response};
use crate::storage::SCHEMA_VERSION;

/// `GET /healthz` → `{"ok":true,"version","schema_version","uptime_secs","backup"}`.
pub async fn get(app: &App, headers: &HeaderMap) -> ApiResult<Response> {
    // A read proves the database answers, not just the process.
    app.read(|r| r.boards().map(|_| ())).await?;
    let body = serde_json::json!({
        "ok": true,
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": SCHEMA_VERSION,
        "uptime_secs": app.started.elapsed().as_secs(),
        "backup": crate::backup::health(app).await,
    });
    let value = Arc::new(Cached::new(serde_json::to_vec(&body).expect("json value")));
    Ok(response::cached(headers, &value))
}
