//! The `wani` command: reads the command line and config, then runs the server.

mod cli;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cli::{Command, Common};

use wani::notify::{notify, Severity};
use wani::{App, Config};

fn load_config(args: &Common) -> Result<Config, String> {
    let path = args
        .config
        .clone()
        .or_else(|| std::env::var_os("WANI_CONFIG").map(PathBuf::from));
    let mut config = match path {
        Some(path) => Config::load(&path)?,
        None => Config::default(),
    };
    if let Some(listen) = &args.listen {
        config.listen = listen
            .parse()
            .map_err(|_| format!("--listen: `{listen}` is not an address like 127.0.0.1:8080"))?;
    }
    if let Some(data) = &args.data {
        config.data_dir = data.clone();
    }
    config.validate()?;
    Ok(config)
}

/// `wani thumbnail IN OUT [--size N]`: exit 0 and a line `WxH N bytes`; 1 when the input is
/// refused or unreadable or the output cannot be written. There is no server here, so a failure
/// names the file and the side (input or output) instead of speaking of processing on a server.
fn thumbnail(input: &Path, output: &Path, size: u32) -> ExitCode {
    let fail = |message: String| {
        eprintln!("wani thumbnail: {message}");
        ExitCode::FAILURE
    };
    // Opening first tells "cannot read IN" apart from a read error in the middle of decoding.
    if let Err(e) = std::fs::File::open(input) {
        return fail(format!("cannot read the input {}: {e}", input.display()));
    }
    let thumb = match wani::media::thumbnail(input, size) {
        Ok(thumb) => thumb,
        Err(wani::media::MediaError::Io(e)) => {
            return fail(format!("cannot read the input {}: {e}", input.display()))
        }
        Err(e) => return fail(format!("{}: {e}", input.display())),
    };
    if let Err(e) = std::fs::write(output, &thumb.bytes) {
        // No partial file is left behind.
        let _ = std::fs::remove_file(output);
        return fail(format!("cannot write the output {}: {e}", output.display()));
    }
    println!(
        "{}x{} {} bytes",
        thumb.width,
        thumb.height,
        thumb.bytes.len()
    );
    ExitCode::SUCCESS
}

/// `wani check-config [--config FILE]`: what the config sets, or its error on one line (exit 2),
/// so provisioning and deploy scripts can refuse a config before restarting the service.
fn check_config(common: &Common) -> ExitCode {
    let config = match load_config(common) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("wani check-config: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    let source = common
        .config
        .clone()
        .or_else(|| std::env::var_os("WANI_CONFIG").map(PathBuf::from))
        .map_or("built-in defaults".to_owned(), |p| p.display().to_string());
    print!("{}", describe(&config, &source));
    ExitCode::SUCCESS
}

/// toml's errors quote the offending line under a caret over several lines; a script's log wants
/// the position and the reason on one.
fn one_line(error: &str) -> String {
    let lines: Vec<&str> = error
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [first, .., last] => format!("{first}: {last}"),
    }
}

/// The facts an operator checks first, one per line; never a secret.
fn describe(config: &Config, source: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "config: {source}: valid");
    let _ = writeln!(out, "listen: {}", config.listen);
    let _ = writeln!(out, "data_dir: {}", config.data_dir.display());
    let proxies: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    let _ = writeln!(out, "trusted_proxies: {}", proxies.join(", "));
    let slugs: Vec<String> = config
        .boards
        .iter()
        .map(|b| format!("/{}/", b.slug))
        .collect();
    let _ = writeln!(out, "boards: {}", slugs.join(" "));
    let largest = config.boards.iter().map(|b| b.max_post_bytes).max();
    let _ = writeln!(out, "max_post_bytes: {}", largest.unwrap_or(0));
    let ffmpeg = config
        .ffmpeg_path
        .as_ref()
        .map_or("none (video uploads are refused)".to_owned(), |p| {
            p.display().to_string()
        });
    let _ = writeln!(out, "ffmpeg: {ffmpeg}");
    let backup = match &config.s3 {
        None => "none (no [s3] section)".to_owned(),
        Some(s3) => format!(
            "bucket {} at {}",
            s3.bucket,
            s3.endpoint.as_deref().unwrap_or("AWS")
        ),
    };
    let _ = writeln!(out, "backup: {backup}");
    out
}

/// `wani backup` and `wani restore`: exit 0 when done, 1 on failure.
fn backup_command(command: &Command, config: Config) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match command {
            Command::Restore {
                snapshot, force, ..
            } => {
                let bucket = bucket(&config)?;
                wani::backup::restore::restore(&bucket, &config.data_dir, snapshot.clone(), *force)
                    .await
            }
            Command::Backup { verify, .. } => backup(&config, *verify).await,
            _ => unreachable!("only backup and restore come here"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let name = match command {
                Command::Restore { .. } => "restore",
                _ => "backup",
            };
            eprintln!("wani {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bucket(config: &Config) -> Result<wani::backup::Bucket, String> {
    let s3 = config
        .s3
        .as_ref()
        .ok_or("the config has no [s3] section: there is no backup to use")?;
    wani::backup::Bucket::connect(s3)
}

/// Asks the running server; with none running, does the work on the database itself.
async fn backup(config: &Config, verify: bool) -> Result<(), String> {
    use wani::backup::admin::{self, Answer};
    let command = if verify { "verify" } else { "snapshot" };
    let data_dir = config.data_dir.clone();
    let command_owned = command.to_owned();
    let answer = tokio::task::spawn_blocking(move || admin::request(&data_dir, &command_owned))
        .await
        .map_err(|e| e.to_string())??;
    match answer {
        Answer::Ok(text) if verify => {
            println!("{text}");
            Ok(())
        }
        Answer::Ok(manifest) => {
            println!("snapshot uploaded: {manifest}");
            Ok(())
        }
        Answer::Failed(e) => Err(e),
        Answer::NoServer => {
            let bucket = bucket(config)?;
            let store = wani::storage::Store::open(&config.data_dir).map_err(|e| e.to_string())?;
            let tmp = config.data_dir.join("tmp");
            std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
            if verify {
                let report = wani::backup::restore::verify(&store, &bucket, &tmp, true).await?;
                for line in report.lines.iter().chain(&report.problems) {
                    println!("{line}");
                }
                match report.problems.len() {
                    0 => Ok(()),
                    n => Err(format!("{n} problems")),
                }
            } else {
                let manifest =
                    wani::backup::snapshot::take(&store, &bucket, &config.data_dir).await?;
                println!(
                    "snapshot uploaded: {}",
                    serde_json::to_string(&manifest).expect("manifests serialize")
                );
                Ok(())
            }
        }
    }
}

/// `wani user add`: through the running server's admin socket, or on the database itself when
/// none runs. Prints the account and its generated password on stdout; exit 0 when created.
fn user_add(user: &wani::auth::add::NewUser, config: Config) -> ExitCode {
    use wani::backup::admin::{self, Answer};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        let command = user.command();
        let data_dir = config.data_dir.clone();
        let answer = tokio::task::spawn_blocking(move || admin::request(&data_dir, &command))
            .await
            .map_err(|e| e.to_string())??;
        match answer {
            Answer::Ok(created) => {
                let mut words = created.splitn(3, ' ');
                match (words.next(), words.next(), words.next()) {
                    (Some(name), Some(role), Some(password)) => {
                        Ok((name.to_owned(), role.to_owned(), password.to_owned()))
                    }
                    _ => Err("the server answered `ok` without an account".to_owned()),
                }
            }
            Answer::Failed(e) => Err(e),
            Answer::NoServer => {
                let store =
                    wani::storage::Store::open(&config.data_dir).map_err(|e| e.to_string())?;
                let writer = wani::storage::Writer::start(&store, Box::new(|_: &[_]| {}));
                let hasher = wani::auth::password::Hasher::new(&config.accounts)?;
                let password = wani::auth::add::generate_password();
                let added = wani::auth::add::add(
                    &store,
                    &writer,
                    &hasher,
                    &config.accounts,
                    user,
                    &password,
                )
                .await;
                writer.stop().await;
                let account = added?;
                Ok((account.username, account.role.name().to_owned(), password))
            }
        }
    });
    match result {
        Ok((name, role, password)) => {
            println!("created {name} ({role}); password, shown only now: {password}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wani user add: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&argv) {
        Ok(command) => command,
        Err(e) => {
            // One line for the mistake and one for where to look, not the whole manual.
            eprintln!("wani: {}", e.message);
            eprintln!("hint: `{}` lists what it takes", e.topic.help_command());
            return ExitCode::from(2);
        }
    };
    let common = match &command {
        Command::Help(topic) => {
            print!("{}", topic.page());
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("wani {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Thumbnail {
            input,
            output,
            size,
        } => return thumbnail(input, output, *size),
        Command::CheckConfig(common) => return check_config(common),
        Command::Serve(common)
        | Command::Backup { common, .. }
        | Command::Restore { common, .. }
        | Command::UserAdd { common, .. } => common,
    };
    let config = match load_config(common) {
        Ok(config) => config,
        Err(e) => {
            // The config's own message names the file and key; the usage page would bury it.
            eprintln!("wani: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::UserAdd { user, .. } = &command {
        return user_add(user, config);
    }
    if !matches!(command, Command::Serve(_)) {
        return backup_command(&command, config);
    }
    // Log lines go to stderr from a background thread, so a slow terminal never stalls requests.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(writer)
        .with_ansi(false)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(config.listen).await {
            Ok(listener) => listener,
            Err(e) => {
                notify(
                    Severity::Error,
                    "bind_failed",
                    format_args!("cannot listen on {}: {e}", config.listen),
                );
                return ExitCode::FAILURE;
            }
        };
        let app = match App::start(config).await {
            Ok(app) => app,
            Err(e) => {
                notify(Severity::Error, "start_failed", e);
                return ExitCode::FAILURE;
            }
        };
        wani::run(listener, app, shutdown_signal()).await;
        ExitCode::SUCCESS
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    notify(Severity::Info, "shutdown_requested", "draining connections");
}
