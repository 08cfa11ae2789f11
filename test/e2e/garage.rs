//! Starting, stopping and inspecting a real Garage (an S3-compatible object store) for the
//! backup tests.
//!
//! Each `Garage` is a one-node cluster of its own: its own temp dir, ports, `rpc_secret`, key and
//! bucket, so tests can run many side by side. Setup goes through the `garage` CLI, as an
//! operator's would; the checks go through aws-sdk-s3, as wani's own uploads do.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::Client;

const BUCKET: &str = "wani";
const REGION: &str = "garage";
/// How long Garage gets to come up (a cold start takes about a second; CI machines are slow).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running one-node Garage. Dropping it kills the process; the data goes with the `TempDir`.
pub struct Garage {
    bin: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
    s3_port: u16,
    key_id: String,
    secret: String,
    client: Client,
}

impl Garage {
    /// Starts a one-node Garage on free loopback ports with a throwaway config, applies a
    /// layout, imports a key with known credentials and creates a bucket the key owns.
    /// Panics (never skips) when the binary is missing or does not start.
    pub async fn start() -> Garage {
        let bin = garage_bin();
        let dir = tempfile::tempdir().expect("temp dir for garage");
        let [rpc_port, s3_port, admin_port] = free_ports();
        let config = format!(
            r#"metadata_dir = "{dir}/meta"
data_dir = "{dir}/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{rpc_secret}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3_port}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin_port}"
admin_token = "{admin_token}"
"#,
            dir = dir.path().display(),
            rpc_secret = random_hex(32),
            admin_token = random_hex(32),
        );
        std::fs::write(dir.path().join("garage.toml"), config).expect("writing garage.toml");

        // Garage's key ids are "GK" and 12 random bytes in hex; importing one of that shape
        // gives the test credentials it knows up front.
        let key_id = format!("GK{}", random_hex(12));
        let secret = random_hex(32);
        let client = s3_client(s3_port, &key_id, &secret);
        let mut garage = Garage {
            bin,
            dir,
            child: None,
            s3_port,
            key_id,
            secret,
            client,
        };
        garage.spawn();
        garage.setup().await;
        garage.wait_for_s3().await;
        garage
    }

    /// Kills the process; keeps its data, so `restart` brings the same bucket back.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports and data; returns once the S3 API answers.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "stop garage before restarting it");
        self.spawn();
        self.wait_for_s3().await;
    }

    /// The `[s3]` section of a wani config.toml pointing at this Garage, with `extra` lines
    /// (such as `snapshot_interval = "1h"`) appended inside the section.
    pub fn s3_toml(&self, prefix: &str, extra: &str) -> String {
        assert!(
            !prefix.contains(['"', '\\']),
            "prefix {prefix:?} needs escaping"
        );
        let mut toml = format!(
            "[s3]\nendpoint = \"{}\"\nregion = \"{REGION}\"\nbucket = \"{BUCKET}\"\n\
             prefix = \"{prefix}\"\npath_style = true\naccess_key_id = \"{}\"\n\
             secret_access_key = \"{}\"\n",
            self.endpoint(),
            self.key_id,
            self.secret,
        );
        if !extra.is_empty() {
            toml.push_str(extra);
            if !extra.ends_with('\n') {
                toml.push('\n');
            }
        }
        toml
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    pub fn bucket(&self) -> &str {
        BUCKET
    }

    pub fn secret_access_key(&self) -> &str {
        &self.secret
    }

    /// An S3 client for checking the bucket from the test (path style, region "garage").
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Every key under `prefix`, sorted.
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(BUCKET)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .unwrap_or_else(|e| panic!("listing {prefix:?} in garage: {e:?}"));
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
            token = page.next_continuation_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
        keys.sort();
        keys
    }

    /// An object's bytes; panics when it is missing.
    pub async fn get(&self, key: &str) -> Vec<u8> {
        let object = self
            .client
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("getting {key:?} from garage: {e:?}"));
        let body = object.body.collect().await;
        body.unwrap_or_else(|e| panic!("reading {key:?} from garage: {e}"))
            .into_bytes()
            .to_vec()
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("garage.toml")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("garage.log")
    }

    fn spawn(&mut self) {
        // Appended to, so a restart keeps the earlier run's lines for the failure message.
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("opening garage.log");
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(self.config_path())
            .arg("server")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("garage.log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.bin.display()));
        self.child = Some(child);
    }

    /// Layout, key and bucket, through the CLI. The CLI reaches the server over RPC, so the
    /// first command is retried until the server is up.
    async fn setup(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.cli(&["status"]).await {
                Ok(_) => break,
                Err(e) if Instant::now() > deadline => self.fail(&e),
                Err(_) => {
                    self.check_running();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        // `node id` prints "<64 hex>@<rpc addr>"; `layout assign` wants the hex part.
        let node = self.must(&["node", "id", "-q"]).await;
        let node_id = node.trim().split('@').next().unwrap_or_default().to_owned();
        self.must(&["layout", "assign", "-z", "dc1", "-c", "1G", &node_id])
            .await;
        self.must(&["layout", "apply", "--version", "1"]).await;
        let (key_id, secret) = (self.key_id.clone(), self.secret.clone());
        let import = [
            "key",
            "import",
            "--yes",
            "-n",
            "wani-test",
            &key_id,
            &secret,
        ];
        self.must(&import).await;
        self.must(&["bucket", "create", BUCKET]).await;
        self.must(&[
            "bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", &key_id,
        ])
        .await;
    }

    /// Polls the bucket until a listing succeeds: the port is bound and the tables answer.
    async fn wait_for_s3(&mut self) {
        // The shared client retries with backoff; the probe fails fast and polls instead.
        let probe = Client::from_conf(
            self.client
                .config()
                .to_builder()
                .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
                .build(),
        );
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let listed = probe
                .list_objects_v2()
                .bucket(BUCKET)
                .max_keys(1)
                .send()
                .await;
            match listed {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => {
                    self.fail(&format!("the S3 API did not answer: {e:?}"))
                }
                Err(_) => {
                    self.check_running();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// Runs `garage -c CONFIG args..`; its stdout, or the command line and its stderr.
    async fn cli(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-c").arg(self.config_path()).args(args);
        let line = format!("garage {}", args.join(" "));
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("garage cli thread")
            .map_err(|e| format!("{line}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{line}: {}\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    async fn must(&mut self, args: &[&str]) -> String {
        match self.cli(args).await {
            Ok(out) => out,
            Err(e) => self.fail(&e),
        }
    }

    /// Panics with the server's log when the process has exited.
    fn check_running(&mut self) {
        let exited = self
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten());
        if let Some(status) = exited {
            self.child = None;
            self.fail(&format!("garage server exited ({status})"));
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        self.stop();
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(80)..].join("\n");
        panic!(
            "garage ({}) did not start: {why}\nthe end of its log:\n{tail}",
            self.bin.display()
        );
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `$GARAGE_BIN`, else `garage` on the PATH, else cargo's bin dir (where `cargo install` puts
/// it). The backup tests are part of the suite, so a missing binary is a failure, not a skip.
fn garage_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("GARAGE_BIN") {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "GARAGE_BIN={} does not exist", bin.display());
        return bin;
    }
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("garage"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    let installed = cargo_home.map(|home| home.join("bin").join("garage"));
    let found = on_path.chain(installed).find(|bin| bin.is_file());
    found.expect(
        "the garage binary is missing (the S3 backup tests need it): set GARAGE_BIN, or run \
         test/run, which installs it with `cargo install garage --locked --version 2.5.0`",
    )
}

/// Three distinct free loopback ports below the kernel's ephemeral range. A port from
/// `bind(":0")` is ephemeral, and while Garage is starting (or stopped for a restart) any
/// outgoing connection in this process, such as another test's S3 client, may take it as its
/// local port; ports outside the range are never handed out that way. A port is given to one
/// Garage per test process, so a stopped Garage's ports stay its own until it restarts.
fn free_ports() -> [u16; 3] {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (low, high) = (10000, ephemeral_low.max(20000));
    let mut ports = [0; 3];
    for slot in &mut ports {
        *slot = loop {
            let mut r = [0u8; 2];
            getrandom::fill(&mut r).expect("random bytes");
            let port = low + u16::from_le_bytes(r) % (high - low);
            // Bindable now means no other program holds it.
            if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
                given.insert(port);
                break port;
            }
        };
    }
    ports
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn s3_client(port: u16, key_id: &str, secret: &str) -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(Credentials::new(key_id, secret, None, None, "garage-test"))
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}
