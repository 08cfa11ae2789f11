//! The one funnel for trouble and lifecycle notices: every error and warning passes through here.
//!
//! Each notice becomes a structured log line, and warnings and errors are counted by hour for the
//! dashboard; a later sink (mail, webhook) hooks in here and nowhere else. Callers pass a stable
//! event name and a detail that must never hold a secret.

use std::fmt::Display;
use std::sync::Mutex;

use serde::Serialize;

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
    if severity != Severity::Info {
        TALLY.record(crate::storage::writer::unix_now(), severity);
    }
}

/// The warnings and errors of the last day, by hour, oldest first.
pub fn last_day() -> Vec<HourOfNotices> {
    TALLY.last_day(crate::storage::writer::unix_now())
}

/// The process's tally. Notices come from threads that hold no `App` (the writer, the config
/// loader, panics), like the log they feed, which is the process's too; a test process running
/// several servers sums theirs.
static TALLY: Tally = Tally::new();

const HOURS: usize = 24;

/// Warnings and errors counted in one hour starting at `at` (unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HourOfNotices {
    pub at: u64,
    pub warnings: u64,
    pub errors: u64,
}

/// A ring of the last 24 hours: a slot holds the hour it counts, and is reset when a later
/// hour reuses it, so counting is one lock and no allocation.
struct Tally {
    slots: Mutex<[HourOfNotices; HOURS]>,
}

impl Tally {
    const fn new() -> Tally {
        Tally {
            slots: Mutex::new(
                [HourOfNotices {
                    at: u64::MAX,
                    warnings: 0,
                    errors: 0,
                }; HOURS],
            ),
        }
    }

    fn record(&self, now: u64, severity: Severity) {
        let at = now / 3600 * 3600;
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut slots[(now / 3600) as usize % HOURS];
        if slot.at != at {
            *slot = HourOfNotices {
                at,
                ..HourOfNotices::default()
            };
        }
        match severity {
            Severity::Warning => slot.warnings += 1,
            Severity::Error => slot.errors += 1,
            Severity::Info => {}
        }
    }

    fn last_day(&self, now: u64) -> Vec<HourOfNotices> {
        let slots = *self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let this_hour = now / 3600;
        (this_hour + 1 - HOURS as u64..=this_hour)
            .map(|hour| {
                let slot = slots[hour as usize % HOURS];
                if slot.at == hour * 3600 {
                    slot
                } else {
                    HourOfNotices {
                        at: hour * 3600,
                        ..HourOfNotices::default()
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_796_083_200;

    #[test]
    fn notices_are_counted_in_their_hour_for_a_day() {
        let tally = Tally::new();
        // (seconds after T, severity)
        let notices = [
            (0, Severity::Warning),
            (3599, Severity::Error),
            (3600, Severity::Warning),
            (3600, Severity::Info),
            (5 * 3600, Severity::Error),
        ];
        for (after, severity) in notices {
            tally.record(T + after, severity);
        }
        let day = tally.last_day(T + 5 * 3600 + 10);
        assert_eq!(day.len(), 24);
        assert_eq!(day[23].at, T + 5 * 3600);
        let counts: Vec<(u64, u64)> = day[18..].iter().map(|h| (h.warnings, h.errors)).collect();
        assert_eq!(counts, [(1, 1), (1, 0), (0, 0), (0, 0), (0, 0), (0, 1)]);
        assert!(day[..18].iter().all(|h| h.warnings + h.errors == 0));
    }

    #[test]
    fn a_slot_reused_a_day_later_starts_from_zero() {
        let tally = Tally::new();
        tally.record(T, Severity::Error);
        tally.record(T + 24 * 3600, Severity::Warning);
        let day = tally.last_day(T + 24 * 3600);
        assert_eq!((day[23].warnings, day[23].errors), (1, 0));
        // A day after the last notice, nothing is left to show even though no slot was reused.
        let later = tally.last_day(T + 48 * 3600);
        assert!(later.iter().all(|h| h.warnings + h.errors == 0));
    }
}
