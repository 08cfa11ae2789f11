//! The `wani` command: reads the command line and config, then runs the server.

use std::path::PathBuf;
use std::process::ExitCode;

use wani::notify::{notify, Severity};
use wani::{App, Config};

const USAGE: &str = "\
usage: wani [--config FILE] [--listen ADDR] [--data DIR]
       wani backup [--verify] [--config FILE] [--data DIR]
       wani restore [--snapshot NAME] [--force] [--config FILE] [--data DIR]
       wani thumbnail IN OUT [--size N]

Runs the wani imageboard server.
`wani backup` has the server running on the data directory take a database snapshot now and
waits for its upload to S3 (with no server running, it takes the snapshot itself); with
--verify it checks instead that every referenced file is in the bucket with the right size and
hash and that the newest snapshot restores to the counts of its manifest.
`wani restore`, with the server stopped, rebuilds the data directory from the newest snapshot
(or NAME) and downloads every referenced file missing on disk; it refuses a data directory
that is not empty unless --force.
`wani thumbnail` makes one WebP thumbnail of the image IN (longest side N pixels, default 250,
never enlarged) with the server's own code path.

  --config FILE   read settings from FILE (default: $WANI_CONFIG, else built-in defaults)
  --listen ADDR   address to listen on, overriding the config (e.g. 127.0.0.1:8080)
  --data DIR      data directory, overriding the config
  --help          print this help
  --version       print the version
";

#[derive(Default)]
struct Args {
    config: Option<PathBuf>,
    listen: Option<String>,
    data: Option<PathBuf>,
    verify: bool,
    snapshot: Option<String>,
    force: bool,
}

/// The flags each command takes beyond --config and --data.
fn parse_args(command: Option<&str>, argv: &[String]) -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = argv.iter().cloned();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match (command, arg.as_str()) {
            (_, "--config") => args.config = Some(value("--config")?.into()),
            (_, "--data") => args.data = Some(value("--data")?.into()),
            (None, "--listen") => args.listen = Some(value("--listen")?),
            (Some("backup"), "--verify") => args.verify = true,
            (Some("restore"), "--snapshot") => args.snapshot = Some(value("--snapshot")?),
            (Some("restore"), "--force") => args.force = true,
            (_, "--help" | "-h") => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            (_, "--version" | "-V") => {
                println!("wani {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            (_, other) => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn load_config(args: &Args) -> Result<Config, String> {
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

/// `wani thumbnail IN OUT [--size N]`: exit 0 and a line `WxH N bytes`; 1 when the image is
/// refused or cannot be read; 2 on a usage error.
fn thumbnail(args: &[String]) -> ExitCode {
    let usage = |message: &str| {
        eprintln!("wani thumbnail: {message}\n\n{USAGE}");
        ExitCode::from(2)
    };
    let mut paths = Vec::new();
    let mut size = wani::media::SIZE_DEFAULT;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--size" {
            match it.next().and_then(|n| n.parse::<u32>().ok()) {
                Some(n) if (1..=16_384).contains(&n) => size = n,
                _ => return usage("--size needs a number of pixels from 1 to 16384"),
            }
        } else if arg.starts_with("--") {
            return usage(&format!("unknown argument `{arg}`"));
        } else {
            paths.push(PathBuf::from(arg));
        }
    }
    let [input, output] = paths.as_slice() else {
        return usage("needs an input and an output file");
    };
    match wani::media::thumbnail_command(input, output, size) {
        Ok(thumb) => {
            println!(
                "{}x{} {} bytes",
                thumb.width,
                thumb.height,
                thumb.bytes.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wani thumbnail: {}: {e}", input.display());
            ExitCode::FAILURE
        }
    }
}

/// `wani backup` and `wani restore`: exit 0 when done, 1 on failure, 2 on a usage error.
fn backup_command(command: &str, args: &Args, config: Config) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match command {
            "restore" => {
                let bucket = bucket(&config)?;
                wani::backup::restore::restore(
                    &bucket,
                    &config.data_dir,
                    args.snapshot.clone(),
                    args.force,
                )
                .await
            }
            _ => backup(&config, args.verify).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wani {command}: {e}");
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

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let command = match argv.first().map(String::as_str) {
        Some("thumbnail") => return thumbnail(&argv[1..]),
        Some(c @ ("backup" | "restore")) => Some(c),
        _ => None,
    };
    let flags = &argv[usize::from(command.is_some())..];
    let loaded = parse_args(command, flags).and_then(|args| Ok((load_config(&args)?, args)));
    let (config, args) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("wani: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(command) = command {
        return backup_command(command, &args, config);
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
