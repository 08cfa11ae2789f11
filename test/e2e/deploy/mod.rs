//! The deployment's nginx site in front of a real wani: the template provision.sh renders
//! (deploy/nginx-site.conf, rendered by deploy/lib.sh exactly as provision.sh does), run by a real
//! nginx on a loopback port with its own prefix, started and stopped by the test.

mod nginx;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Server;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A running nginx with wani's site. Dropping it stops the process.
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// Runs `render` or `largest_post_bytes` from deploy/lib.sh with these arguments.
fn lib(function: &str, args: &[String]) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("source {REPO}/deploy/lib.sh && {function} \"$@\""))
        .arg("lib.sh")
        .args(args)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{function} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nginx {
    /// nginx on a free loopback port in front of `wani`, whose config file is `config`.
    pub fn start(wani: &Server, config: &Path) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("conf");
        std::fs::create_dir_all(conf.join("snippets")).unwrap();
        let port = free_port();
        let max_body = lib("largest_post_bytes", &[config.display().to_string()]);
        let site = lib(
            "render",
            &[
                format!("{REPO}/deploy/nginx-site.conf"),
                "plain".into(),
                format!("LISTEN=127.0.0.1:{port}"),
                "SERVER_NAME=_".into(),
                format!("UPSTREAM={}", wani.addr),
                format!("DATA_DIR={}", wani.data_dir().display()),
                format!("MAX_BODY_BYTES={}", max_body.trim()),
            ],
        );
        let snippet = lib(
            "render",
            &[format!("{REPO}/deploy/nginx-files.conf"), "plain".into()],
        );
        std::fs::write(conf.join("wani-site.conf"), site).unwrap();
        std::fs::write(conf.join("snippets/wani-files.conf"), snippet).unwrap();
        let prefix = dir.path().display().to_string();
        std::fs::write(
            conf.join("nginx.conf"),
            format!(
                "pid {prefix}/nginx.pid;\nerror_log stderr;\nworker_processes 1;\nevents {{}}\n\
                 http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n\
                 proxy_temp_path {prefix}/proxy;\n  fastcgi_temp_path {prefix}/fastcgi;\n\
                 uwsgi_temp_path {prefix}/uwsgi;\n  scgi_temp_path {prefix}/scgi;\n\
                 include wani-site.conf;\n}}\n"
            ),
        )
        .unwrap();
        // The workers run as `nobody` when the test runs as root: the data directory's parent
        // must let them through, as /var/lib/wani's 0711 does on a server.
        use std::os::unix::fs::PermissionsExt;
        let parent = wani.data_dir().parent().unwrap().to_owned();
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o711)).unwrap();

        let nginx = which_nginx();
        let conf_file = conf.join("nginx.conf");
        let test = Command::new(&nginx)
            .args(["-t", "-q", "-p", &prefix, "-c"])
            .arg(&conf_file)
            .output()
            .expect("running nginx -t");
        assert!(
            test.status.success(),
            "nginx -t refuses the rendered site: {}",
            String::from_utf8_lossy(&test.stderr)
        );
        let child = Command::new(&nginx)
            .args(["-p", &prefix, "-g", "daemon off;", "-c"])
            .arg(&conf_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nginx");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx {
            child,
            addr,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Nginx {
    /// SIGTERM: the master stops its workers too (SIGKILL would leave them orphaned, holding
    /// the port).
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Debian package's nginx; the suite fails, never skips, without it (test/run installs it).
fn which_nginx() -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let path = Path::new(dir).join("nginx");
        if path.exists() {
            return path;
        }
    }
    panic!("nginx is not installed: `apt-get install nginx` (test/run does it)")
}

/// A client whose connections come from `ip` (any 127.0.0.0/8 address works on loopback), so a
/// test can act as several client addresses without any header.
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}
