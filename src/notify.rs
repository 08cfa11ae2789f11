//! The one funnel for trouble and lifecycle notices: every error and warning passes through here.
//!
//! Today each notice becomes a structured log line; a later sink (mail, webhook) hooks in here and
//! nowhere else. Callers pass a stable event name and a detail that must never hold a secret.

use std::fmt::Display;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Lifecycle: start, stop.
    Info,
    /// Something went wrong but nothing was lost.
    Warning,
    /// A request failed on the server's side, storage failed, or a task panicked.
    Error,
}

/// Reports one notice. `event` is a stable snake_case name that log searches can rely on.
pub fn notify(severity: Severity, event: &'static str, detail: impl Display) {
    match severity {
        Severity::Info => tracing::info!(target: "wani::notify", event, "{detail}"),
        Severity::Warning => tracing::warn!(target: "wani::notify", event, "{detail}"),
        Severity::Error => tracing::error!(target: "wani::notify", event, "{detail}"),
    }
}
