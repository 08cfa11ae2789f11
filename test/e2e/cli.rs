//! The command line and config: embedded defaults, config errors, overrides, logs.

use std::process::{Command, Stdio};

use crate::harness::*;

#[tokio::test]
async fn with_no_config_it_runs_on_embedded_defaults_in_the_working_directory() {
    let cwd = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .current_dir(cwd.path())
        .env_remove("WANI_CONFIG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let logs = Default::default();
    let addr = watch_logs(&mut child, logs);
    let result = async {
        let addr = addr.expect("wani started");
        let r = reqwest::get(format!("http://{addr}/api/boards"))
            .await
            .unwrap();
        r.json::<serde_json::Value>().await.unwrap()
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(result["boards"][0]["slug"], "b");
    assert_eq!(result["boards"][0]["title"], "Random");
    assert!(
        cwd.path().join("data/wani.redb").is_file(),
        "data goes to ./data by default"
    );
}

#[test]
fn unknown_config_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "listen = \"127.0.0.1:0\"\ndata_dri = \"x\"\n",
    )
    .unwrap();
    let (code, stderr) = run_wani(&["--config", "c.toml"], dir.path());
    assert_eq!(code, Some(2));
    assert!(stderr.contains("data_dri"), "{stderr}");
    std::fs::write(
        dir.path().join("d.toml"),
        "[[boards]]\nslug = \"a\"\ntitle = \"A\"\nbumplimit = 3\n",
    )
    .unwrap();
    let (code, stderr) = run_wani(&["--config", "d.toml"], dir.path());
    assert_eq!(code, Some(2));
    assert!(stderr.contains("bumplimit"), "{stderr}");
}

#[test]
fn bad_arguments_and_files_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--frobnicate"], "--frobnicate"),
        (&["--config", "missing.toml"], "missing.toml"),
        (&["--listen", "not-an-address"], "not-an-address"),
        (&["--listen"], "needs a value"),
    ];
    for (args, needle) in cases {
        let (code, stderr) = run_wani(args, dir.path());
        assert_eq!(code, Some(2), "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    let (code, _) = run_wani(&["--help"], dir.path());
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn wani_config_environment_variable_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("env.toml");
    std::fs::write(
        &config,
        "[[boards]]\nslug = \"env\"\ntitle = \"From the environment\"\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .env("WANI_CONFIG", &config)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = watch_logs(&mut child, Default::default());
    let status = async {
        reqwest::get(format!("http://{}/api/boards/env", addr.expect("started")))
            .await
            .unwrap()
            .status()
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_second_server_on_the_same_data_refuses_to_start() {
    let server = Server::start().await;
    let (code, stderr) = run_wani(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data",
            server.data_dir().to_str().unwrap(),
        ],
        std::path::Path::new("/"),
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("already running"), "{stderr}");
    assert_eq!(
        server.get("/healthz").await.status,
        200,
        "the first server is unharmed"
    );
}

#[tokio::test]
async fn each_request_is_logged_with_its_client() {
    let server = Server::start().await;
    // The test client connects from 127.0.0.1, a trusted proxy by default, so the forwarded
    // address is believed.
    let req = server
        .client
        .get(server.url("/api/boards/b"))
        .header("x-forwarded-for", "198.51.100.23");
    server.send(req).await;
    let untrusted = Server::with_config("trusted_proxies = []").await;
    let req = untrusted
        .client
        .get(untrusted.url("/api/boards/b"))
        .header("x-forwarded-for", "198.51.100.24");
    untrusted.send(req).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // log lines are written off-thread

    let line = |s: &Server| {
        s.logs()
            .into_iter()
            .find(|l| l.contains("path=\"/api/boards/b\""))
            .expect("request line")
    };
    let trusted_line = line(&server);
    for part in ["method=GET", "status=200", "ms=", "client=198.51.100.23"] {
        assert!(trusted_line.contains(part), "{part} in {trusted_line}");
    }
    let untrusted_line = line(&untrusted);
    assert!(
        untrusted_line.contains("client=127.0.0.1"),
        "{untrusted_line}"
    );
    assert!(
        !untrusted_line.contains("198.51.100.24"),
        "{untrusted_line}"
    );
}

/// `wani thumbnail IN OUT [--size N]`: the server's thumbnail path on one file, for admins
/// and the benchmark.
#[test]
fn thumbnail_command_makes_one_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let photo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test/fixtures/images/path-gps-rotated.jpg"
    );
    let out = dir.path().join("thumb.webp");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("thumbnail")
            .args(args)
            .output()
            .unwrap()
    };

    let done = run(&[photo, out.to_str().unwrap(), "--size", "100"]);
    assert!(done.status.success(), "{done:?}");
    // Upright: the photo is 2560x1600 stored, rotated 90° by its EXIF orientation.
    assert_eq!(
        String::from_utf8_lossy(&done.stdout).split(' ').next(),
        Some("63x100")
    );
    let thumb = image::open(&out).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (63, 100));
    let done = run(&[photo, out.to_str().unwrap()]);
    assert!(done.status.success(), "{done:?}");
    assert_eq!(
        image::open(&out).unwrap().height(),
        250,
        "250 px by default"
    );

    let text = dir.path().join("note.jpg");
    std::fs::write(&text, "not a picture").unwrap();
    let refused = dir.path().join("refused.webp");
    let done = run(&[text.to_str().unwrap(), refused.to_str().unwrap()]);
    assert_eq!(done.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&done.stderr).contains("not an image"),
        "{done:?}"
    );
    assert!(!refused.exists(), "a refused file makes no output");

    for args in [
        &[photo][..],
        &[photo, "a.webp", "--size", "0"],
        &[photo, "a.webp", "--bogus"],
    ] {
        let done = run(args);
        assert_eq!(done.status.code(), Some(2), "{args:?}: {done:?}");
        assert!(
            String::from_utf8_lossy(&done.stderr).contains("wani thumbnail --help"),
            "{args:?}"
        );
    }
}

/// Runs `wani` with these arguments: exit code, stdout, stderr.
fn wani(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("WANI_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_works_for_every_command_in_every_spelling() {
    let cases: [(&[&str], &str); 11] = [
        (&["--help"], "usage: wani [--config FILE]"),
        (&["-h"], "usage: wani [--config FILE]"),
        (&["help"], "usage: wani [--config FILE]"),
        (
            &["--data", "/nonexistent", "--help"],
            "usage: wani [--config FILE]",
        ),
        (&["help", "thumbnail"], "usage: wani thumbnail IN OUT"),
        (&["thumbnail", "--help"], "usage: wani thumbnail IN OUT"),
        (
            &["thumbnail", "in.jpg", "-h"],
            "usage: wani thumbnail IN OUT",
        ),
        (&["backup", "--help"], "usage: wani backup [--verify]"),
        (&["help", "backup"], "usage: wani backup [--verify]"),
        (
            &["restore", "--help"],
            "usage: wani restore [--snapshot NAME]",
        ),
        (
            &["help", "restore"],
            "usage: wani restore [--snapshot NAME]",
        ),
    ];
    for (args, start) in cases {
        let (code, stdout, stderr) = wani(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stdout.starts_with(start), "{args:?}: {stdout}");
        assert_eq!(stderr, "", "{args:?}");
    }
    let (code, stdout, _) = wani(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("wani "), "{stdout}");
}

/// A usage error is one line naming the mistake and one hint, not the whole manual.
#[test]
fn usage_errors_are_one_line_and_a_hint() {
    let cases: [(&[&str], &str, &str); 8] = [
        (
            &["--frobnicate"],
            "unknown argument `--frobnicate`",
            "wani --help",
        ),
        (
            &["frobnicate"],
            "unknown command `frobnicate`",
            "wani --help",
        ),
        (&["--listen"], "--listen needs a value", "wani --help"),
        (
            &["backup", "--force"],
            "`--force` for `wani backup`",
            "wani backup --help",
        ),
        (
            &["backup", "--snapshot", "x"],
            "`--snapshot`",
            "wani backup --help",
        ),
        (
            &["restore", "--verify"],
            "`--verify`",
            "wani restore --help",
        ),
        (
            &["thumbnail", "in.jpg"],
            "needs an input and an output",
            "wani thumbnail --help",
        ),
        (
            &["help", "frobnicate"],
            "no help for `frobnicate`",
            "wani --help",
        ),
    ];
    for (args, mistake, page) in cases {
        let (code, stdout, stderr) = wani(args);
        assert_eq!(code, Some(2), "{args:?}");
        assert_eq!(stdout, "", "{args:?}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {stderr}");
        assert!(lines[0].starts_with("wani: "), "{args:?}: {stderr}");
        assert!(lines[0].contains(mistake), "{args:?}: {stderr}");
        assert!(
            lines[1].contains(&format!("`{page}`")),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_config_mistake_is_reported_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "data_dri = \"x\"\n").unwrap();
    let (code, stderr) = run_wani(&["--config", "c.toml"], dir.path());
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("wani: config file c.toml"), "{stderr}");
    assert!(stderr.contains("data_dri"), "{stderr}");
    // The parser's own message (it quotes the line) and nothing of the usage page after it.
    assert!(!stderr.contains("usage"), "{stderr}");
    assert!(!stderr.contains("--listen"), "{stderr}");
}

/// `wani thumbnail` runs no server: a failure names the file and whether it is the input that
/// cannot be read or the output that cannot be written.
#[test]
fn thumbnail_failures_name_the_file_and_the_side() {
    let dir = tempfile::tempdir().unwrap();
    let photo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test/fixtures/images/path-gps-rotated.jpg"
    );
    let photo = std::path::PathBuf::from(photo);
    let folder = dir.path().to_path_buf();
    let missing_in = dir.path().join("nonexistent.jpg");
    let missing_out = dir.path().join("no-such-folder/out.webp");
    let good_out = dir.path().join("out.webp");
    let cases = [
        (&missing_in, &good_out, "cannot read the input", &missing_in),
        (&folder, &good_out, "cannot read the input", &folder),
        (
            &photo,
            &missing_out,
            "cannot write the output",
            &missing_out,
        ),
    ];
    for (input, output, side, named) in cases {
        let (code, _, stderr) = wani(&[
            "thumbnail",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(1), "{input:?} {output:?}: {stderr}");
        assert!(stderr.contains(side), "{stderr}");
        assert!(stderr.contains(named.to_str().unwrap()), "{stderr}");
        assert!(!stderr.contains("server"), "{stderr}");
        assert!(!good_out.exists() && !missing_out.exists());
    }
}

/// `wani check-config`: what the config sets on stdout, or its error on one line and exit 2;
/// never a secret, and the data directory is not touched.
#[test]
fn check_config_prints_what_the_config_sets_or_its_error_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let valid = r#"
listen = "127.0.0.1:9999"
data_dir = "never-created"
trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]
[[boards]]
slug = "a"
title = "A"
max_post_bytes = 1000
max_file_bytes = 1000
[[boards]]
slug = "big"
title = "Big"
max_post_bytes = 104857600
[s3]
endpoint = "http://127.0.0.1:3900"
bucket = "wani-backup"
access_key_id = "GKkeyid"
secret_access_key = "do-not-print-me"
"#;
    std::fs::write(dir.path().join("ok.toml"), valid).unwrap();
    let out = Command::new(BIN)
        .args(["check-config", "--config", "ok.toml"])
        .current_dir(dir.path())
        .env_remove("WANI_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for line in [
        "config: ok.toml: valid",
        "listen: 127.0.0.1:9999",
        "data_dir: never-created",
        "trusted_proxies: 127.0.0.1, 10.0.0.0/8",
        "boards: /a/ /big/",
        "max_post_bytes: 104857600",
        "ffmpeg: none",
        "backup: bucket wani-backup at http://127.0.0.1:3900",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(line)),
            "{line}: {stdout}"
        );
    }
    assert!(!stdout.contains("do-not-print-me") && !stdout.contains("GKkeyid"));
    assert!(!dir.path().join("never-created").exists());

    let refused = [
        ("listen = \"nowhere\"\n", "invalid socket address"),
        ("data_dri = \"x\"\n", "data_dri"),
        (
            "[[boards]]\nslug = \"a\"\ntitle = \"A\"\nmax_post_bytes = 10\n",
            "`max_file_bytes` (8388608) is over `max_post_bytes` (10)",
        ),
        (
            "listen = \"127.0.0.1:1\"\nlisten = \"127.0.0.1:2\"\n",
            "duplicate key",
        ),
    ];
    for (config, needle) in refused {
        std::fs::write(dir.path().join("bad.toml"), config).unwrap();
        let (code, stderr) = run_wani(&["check-config", "--config", "bad.toml"], dir.path());
        assert_eq!(code, Some(2), "{config}: {stderr}");
        assert!(stderr.contains(needle), "{config}: {stderr}");
        assert!(
            stderr.starts_with("wani check-config: config file bad.toml"),
            "{stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
    let (code, stderr) = run_wani(&["check-config", "--config", "missing.toml"], dir.path());
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("cannot read config file missing.toml"),
        "{stderr}"
    );
}
