//! The `wani` command: reads the command line and config, then runs the server.

use std::path::PathBuf;
use std::process::ExitCode;

use wani::notify::{notify, Severity};
use wani::{App, Config};

const USAGE: &str = "\
usage: wani [--config FILE] [--listen ADDR] [--data DIR]

Runs the wani imageboard server.

  --config FILE   read settings from FILE (default: $WANI_CONFIG, else built-in defaults)
  --listen ADDR   address to listen on, overriding the config (e.g. 127.0.0.1:8080)
  --data DIR      data directory, overriding the config
  --help          print this help
  --version       print the version
";

struct Args {
    config: Option<PathBuf>,
    listen: Option<String>,
    data: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        config: None,
        listen: None,
        data: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--config" => args.config = Some(value("--config")?.into()),
            "--listen" => args.listen = Some(value("--listen")?),
            "--data" => args.data = Some(value("--data")?.into()),
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "--version" | "-V" => {
                println!("wani {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn load_config(args: Args) -> Result<Config, String> {
    let path = args
        .config
        .or_else(|| std::env::var_os("WANI_CONFIG").map(PathBuf::from));
    let mut config = match path {
        Some(path) => Config::load(&path)?,
        None => Config::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen
            .parse()
            .map_err(|_| format!("--listen: `{listen}` is not an address like 127.0.0.1:8080"))?;
    }
    if let Some(data) = args.data {
        config.data_dir = data;
    }
    config.validate()?;
    Ok(config)
}

fn main() -> ExitCode {
    let config = match parse_args().and_then(load_config) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("wani: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
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
