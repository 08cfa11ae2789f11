//! The dashboard's figures: activity per board, storage, backup, live readers, reports waiting
//! and the notices of the last day, each read from a counter rather than counted.

use std::path::Path;

use serde_json::{json, Value};

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::http::request::query;
use crate::http::{response, Response};
use crate::storage::writer::unix_now;

/// `GET /api/admin/stats` → 200 with posts and new threads per board by hour (the last 24) and
/// by UTC day (the last 30), the files stored and their bytes, the data directory's disk, the
/// S3 backlog and the age of the last snapshot this process took, live subscribers, posts with
/// open reports, and warnings and errors by hour over the last day. Admins only: the disk, the
/// backup and the notices are the whole server's, not a board's.
///
/// Its cost is bounded by the number of boards (a month of hourly rows each), whatever the
/// number of posts: every figure is a counter the writer or the process keeps.
pub async fn get(app: &App, raw_query: Option<&str>) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let now = unix_now();
    let (boards, files, waiting, backlog) = app
        .read(move |r| {
            Ok((
                r.activity(now)?,
                r.file_totals()?,
                r.reports_waiting()?,
                r.outbox_len()?,
            ))
        })
        .await?;
    let data_dir = app.config.data_dir.clone();
    let disk = tokio::task::spawn_blocking(move || disk(&data_dir))
        .await
        .map_err(|e| ApiError::internal("read_task_failed", e))?;
    let disk = match disk {
        Ok((free, total)) => json!({ "free_bytes": free, "total_bytes": total }),
        Err(e) => {
            crate::notify::notify(crate::notify::Severity::Warning, "disk_stat_failed", e);
            Value::Null
        }
    };
    let backup = match &app.backup {
        Some(backup) => {
            let at = backup.last_snapshot_at();
            json!({
                "enabled": true,
                "backlog": backlog,
                "last_snapshot_at": at,
                "snapshot_age_secs": at.map(|at| now.saturating_sub(at)),
            })
        }
        None => json!({
            "enabled": false,
            "backlog": backlog,
            "last_snapshot_at": null,
            "snapshot_age_secs": null,
        }),
    };
    let notices = crate::notify::last_day();
    let warnings: u64 = notices.iter().map(|h| h.warnings).sum();
    let errors: u64 = notices.iter().map(|h| h.errors).sum();
    Ok(response::ok_json(&json!({
        "now": now,
        "boards": boards,
        "files": files,
        "disk": disk,
        "backup": backup,
        "live": { "subscribers": app.live.subscribers() },
        "reports": { "waiting": waiting },
        "notices": { "warnings": warnings, "errors": errors, "hours": notices },
    })))
}

/// Free bytes (for an unprivileged writer) and total bytes of the filesystem holding `dir`.
fn disk(dir: &Path) -> Result<(u64, u64), String> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| "the data directory's path holds a NUL byte".to_owned())?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a NUL-terminated string and `stat` is written by statvfs before it is
    // read, only when it reports success.
    let stat = unsafe {
        if libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) != 0 {
            return Err(format!(
                "statvfs of {}: {}",
                dir.display(),
                std::io::Error::last_os_error()
            ));
        }
        stat.assume_init()
    };
    let unit = stat.f_frsize as u64;
    Ok((
        (stat.f_bavail as u64).saturating_mul(unit),
        (stat.f_blocks as u64).saturating_mul(unit),
    ))
}
