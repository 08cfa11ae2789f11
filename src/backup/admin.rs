//! The admin socket: `<data_dir>/admin.sock`, a Unix socket only the server's own user can open
//! (mode 0600), through which `wani backup` asks the running server for a snapshot or a
//! verification, and `wani user add` creates an account. One command line in; lines of output
//! and a last `ok` or `error` line out.

use std::io::{BufRead, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use crate::app::App;
use crate::notify::{notify, Severity};

pub const SOCKET: &str = "admin.sock";

/// Binds the socket (before the server says it is listening, so `wani backup` can rely on it)
/// and serves it from a task for as long as the server runs.
pub fn start(app: &Arc<App>) {
    let path = app.config.data_dir.join(SOCKET);
    // A socket left by a process that died; the database lock already proved it is gone.
    let _ = std::fs::remove_file(&path);
    let bound = UnixListener::bind(&path).and_then(|listener| {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        Ok(listener)
    });
    match bound {
        Ok(listener) => {
            tokio::spawn(serve(app.clone(), listener));
        }
        Err(e) => notify(
            Severity::Warning,
            "admin_socket_failed",
            format_args!(
                "cannot listen on {}: {e}; `wani backup` will not reach this server",
                path.display()
            ),
        ),
    }
}

async fn serve(app: Arc<App>, listener: UnixListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, say: let the moment pass rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        tokio::spawn(handle(app.clone(), stream));
    }
}

async fn handle(app: Arc<App>, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut command = String::new();
    // Bounded: a command is one short line.
    let mut reader = tokio::io::BufReader::new(read.take(4096));
    if reader.read_line(&mut command).await.is_err() {
        return;
    }
    let answer = run(&app, command.trim()).await;
    let _ = write.write_all(answer.as_bytes()).await;
}

async fn run(app: &App, command: &str) -> String {
    if let Some(rest) = command.strip_prefix("user-add ") {
        return add_user(app, rest).await;
    }
    let Some(backup) = &app.backup else {
        return "error this server has no [s3] section: there is nowhere to back up to\n".into();
    };
    match command {
        "snapshot" => match backup.snapshot(app).await {
            Ok(manifest) => format!(
                "ok {}\n",
                serde_json::to_string(&manifest).expect("manifests serialize")
            ),
            Err(e) => format!("error {e}\n"),
        },
        "verify" => {
            let tmp = app.files.tmp_dir();
            match super::restore::verify(&app.store, &backup.bucket, &tmp, false).await {
                Ok(report) => answer_report(&report),
                Err(e) => format!("error {e}\n"),
            }
        }
        other => format!("error unknown command `{other}`\n"),
    }
}

/// `user-add NAME ROLE BOARDS`, then the password on the next line: creates the account and
/// answers `ok` with its name and role. The password never reaches the log.
async fn add_user(app: &App, rest: &str) -> String {
    use crate::auth::add::{add, NewUser};
    let Some(user) = NewUser::parse_command(rest) else {
        return "error the command is `user-add NAME ROLE BOARDS`\n".into();
    };
    let password = crate::auth::add::generate_password();
    let accounts = &app.accounts;
    match add(
        &app.store,
        &app.writer,
        &accounts.hasher,
        &app.config.accounts,
        &user,
        &password,
    )
    .await
    {
        Ok(account) => {
            notify(
                Severity::Info,
                "account_created",
                format_args!(
                    "`{}` created as {} from the command line",
                    account.username,
                    account.role.name()
                ),
            );
            format!(
                "ok {} {} {password}\n",
                account.username,
                account.role.name()
            )
        }
        Err(e) => format!("error {e}\n"),
    }
}

/// A report as lines, problems included, then `ok` or `error`.
pub fn answer_report(report: &super::restore::Report) -> String {
    let mut out = String::new();
    for line in report.lines.iter().chain(&report.problems) {
        out.push_str(&format!("line {line}\n"));
    }
    if report.problems.is_empty() {
        out.push_str("ok the bucket can rebuild this server\n");
    } else {
        out.push_str(&format!("error {} problems\n", report.problems.len()));
    }
    out
}

/// What the server answered.
pub enum Answer {
    /// No server listens on this data directory.
    NoServer,
    Ok(String),
    Failed(String),
}

/// Sends `command` to the server running on `data_dir`, printing its `line`s as they come.
pub fn request(data_dir: &Path, command: &str) -> Result<Answer, String> {
    let path = data_dir.join(SOCKET);
    let mut stream = match std::os::unix::net::UnixStream::connect(&path) {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(Answer::NoServer)
        }
        Err(e) => {
            return Err(format!(
                "cannot reach the server at {}: {e}",
                path.display()
            ))
        }
    };
    stream
        .write_all(format!("{command}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    for line in BufReader::new(stream).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let (kind, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match kind {
            "line" => println!("{rest}"),
            "ok" => return Ok(Answer::Ok(rest.to_owned())),
            "error" => return Ok(Answer::Failed(rest.to_owned())),
            _ => return Err(format!("the server answered `{line}`")),
        }
    }
    Err("the server closed the connection without answering".into())
}
