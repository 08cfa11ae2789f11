//! Starting, stopping and talking to a real `wani` process.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_wani");

/// How long a live stream's next event, or a log line, may take before a test fails instead of
/// hanging. It is a bound, not an expectation: either normally comes within milliseconds, but
/// `test/run` runs this suite at a lower priority beside the browser tests on as few as two
/// cores, where a niced burst of thousands of posts has been seen to go 5 s without the next
/// event.
pub const EVENT_WAIT: Duration = Duration::from_secs(30);

/// A config with one small board, so limits are quick to reach.
pub const SMALL_BOARD: &str = r#"
[[boards]]
slug = "t"
title = "Test"
description = "A board for tests"
bump_limit = 3
thread_limit = 4
threads_per_page = 2
max_body_chars = 50
max_subject_chars = 10
max_name_chars = 8
"#;

/// The config a test server runs with: the test's own (or the embedded defaults) with flood
/// control and the request budget off, unless the test sets them. Most tests post many times
/// a second from one address; the flood tests (`flood::`) turn the limits on to test them.
fn test_config(config: Option<&str>) -> String {
    let config = config.unwrap_or("");
    let mut off = String::new();
    if !config.contains("flood_control") {
        off.push_str("flood_control = false\n");
    }
    if !config.contains("request_budget") {
        off.push_str("request_budget_per_minute = 0\nrequest_budget_burst = 0\n");
    }
    // Top-level keys go before the first table.
    format!("{off}{config}")
}

/// A running server. Dropping it kills the process; the data directory goes with the `TempDir`.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
    config: Option<String>,
    logs: Arc<Mutex<Vec<String>>>,
    pub client: reqwest::Client,
}

/// A response with its body parsed as JSON (`Value::Null` when the body is empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    pub fn field(&self) -> &str {
        self.json["error"]["field"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts an error status and code, and that the body has a human message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.json);
        assert_eq!(self.code(), code, "body: {}", self.json);
        assert!(
            self.json["error"]["message"]
                .as_str()
                .is_some_and(|m| m.len() > 5),
            "{}",
            self.json
        );
    }
}

impl Server {
    /// The embedded defaults (board /b/; flood control off, see [`test_config`]), on a free
    /// port and a fresh data directory.
    pub async fn start() -> Server {
        Server::launch(None, &[]).await
    }

    /// With a config file holding `config`.
    pub async fn with_config(config: &str) -> Server {
        Server::launch(Some(config.to_owned()), &[]).await
    }

    /// With the small test board /t/.
    pub async fn small() -> Server {
        Server::with_config(SMALL_BOARD).await
    }

    async fn launch(config: Option<String>, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Server {
            child: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            dir,
            config,
            logs: Arc::new(Mutex::new(Vec::new())),
            // Idle connections are dropped well before the server closes them (after
            // `header_timeout_secs`, 20 s by default): a request sent on a connection the server
            // is closing at that moment fails with a broken pipe, which a slow moment of a busy
            // machine (a test building a large fixture between two requests) can line up.
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .pool_idle_timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        server.spawn(env);
        server
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server process's id, to read its `/proc/<pid>/status` (peak memory: `VmHWM`).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is running").id()
    }

    fn spawn(&mut self, env: &[(&str, &str)]) {
        let mut cmd = Command::new(BIN);
        cmd.arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data")
            .arg(self.data_dir());
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, test_config(self.config.as_deref())).unwrap();
        cmd.arg("--config").arg(path);
        cmd.envs(env.iter().copied()).env_remove("WANI_CONFIG");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("starting wani");
        let addr = watch_logs(&mut child, self.logs.clone());
        self.child = Some(child);
        self.addr = addr
            .unwrap_or_else(|| panic!("wani did not start; its log:\n{}", self.logs().join("\n")));
    }

    /// Replaces the config file used by the next `restart`.
    pub fn set_config(&mut self, config: &str) {
        self.config = Some(config.to_owned());
    }

    /// Starts the server again on the same data directory and config (after `kill` or `stop`).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop or kill the server first");
        self.spawn(&[]);
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the process to exit on its own.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server is running");
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "wani did not exit within 20 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's log lines so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `needle` appears on `count` log lines, and returns how many
    /// it is on: the log is read by another thread, a moment after the server wrote it.
    pub async fn log_count(&self, needle: &str, count: usize) -> usize {
        let seen = || self.logs().iter().filter(|l| l.contains(needle)).count();
        for _ in 0..500 {
            if seen() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        seen()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.client.get(self.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.send(req).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.client.post(self.url(path)).json(&body))
            .await
    }

    /// A POST with exactly these bytes and this Content-Type (none when `None`).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut req = self.client.post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        self.send(req).await
    }

    /// A `multipart/form-data` POST.
    pub async fn post_form(&self, path: &str, form: reqwest::multipart::Form) -> Reply {
        self.send(self.client.post(self.url(path)).multipart(form))
            .await
    }

    /// A GET whose body is returned as bytes, not parsed (files are not JSON).
    pub async fn get_bytes(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        self.request_bytes("GET", path, headers).await
    }

    /// Any method, with these headers; the body comes back as bytes.
    pub async fn request_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let resp = req.send().await.expect("request failed");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("reading body").to_vec();
        (status, headers, bytes)
    }

    /// The files under the data directory's `tmp/`: uploads in flight, or left behind.
    pub fn tmp_files(&self) -> Vec<PathBuf> {
        let tmp = self.data_dir().join("tmp");
        self.stored_files()
            .into_iter()
            .filter(|p| p.starts_with(&tmp))
            .collect()
    }

    /// Every regular file under the data directory's `files/`, `thumbs/` and `tmp/`, sorted:
    /// what uploads left on disk.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.map_while(Result::ok) {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    walk(&entry.path(), out);
                } else if kind.is_file() {
                    out.push(entry.path());
                }
            }
        }
        let mut out = Vec::new();
        for dir in ["files", "thumbs", "tmp"] {
            walk(&self.data_dir().join(dir), &mut out);
        }
        out.sort();
        out
    }

    pub async fn request(&self, method: &str, path: &str) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.send(self.client.request(method, self.url(path))).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request failed");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("reading body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Reply {
            status,
            headers,
            json,
        }
    }

    /// Opens a thread and returns its number.
    pub async fn thread(&self, board: &str, body: &str) -> u64 {
        let r = self
            .post(
                &format!("/api/boards/{board}/threads"),
                serde_json::json!({ "body": body }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        r.json["no"].as_u64().unwrap()
    }

    /// Replies to a thread and returns the reply's number.
    pub async fn reply(&self, board: &str, thread: u64, body: Value) -> u64 {
        let r = self
            .post(&format!("/api/boards/{board}/threads/{thread}/posts"), body)
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        r.json["no"].as_u64().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Copies the child's stderr into `logs` on a thread, and returns the address from its
/// start-up line (or `None` if it exited or said nothing within 15 s).
pub fn watch_logs(child: &mut Child, logs: Arc<Mutex<Vec<String>>>) -> Option<SocketAddr> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split('/').next().unwrap_or("").to_owned();
                let _ = tx.send(addr);
            }
            logs.lock().unwrap().push(line);
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(15)).ok()?;
    addr.parse().ok()
}

/// Runs `wani` with these arguments to completion; returns its exit code and stderr.
pub fn run_wani(args: &[&str], cwd: &Path) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("WANI_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
