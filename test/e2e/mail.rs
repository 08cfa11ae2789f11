//! A real SMTP server on loopback for the recovery tests: `test/smtp/sink.py` (aiosmtpd), run
//! by the Python that `WANI_SMTP_PYTHON` names (test/run installs it into target/smtp-venv).
//! Without it the tests fail, never skip.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test/smtp/sink.py");

/// One received message, as the sink wrote it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mail {
    /// The 64-hex-digit reset token in the body.
    pub fn token(&self) -> String {
        let words = self.body.split(|c: char| !c.is_ascii_hexdigit());
        let tokens: Vec<&str> = words.filter(|w| w.len() == 64).collect();
        assert_eq!(tokens.len(), 1, "one token in: {}", self.body);
        tokens[0].to_owned()
    }
}

pub struct MailSink {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl MailSink {
    pub fn start() -> MailSink {
        let python = std::env::var("WANI_SMTP_PYTHON").unwrap_or_else(|_| {
            panic!(
                "WANI_SMTP_PYTHON is not set: it names a Python with aiosmtpd for the mail \
                 tests (test/run installs one into target/smtp-venv; or `python3 -m venv \
                 target/smtp-venv && target/smtp-venv/bin/pip install aiosmtpd` and set it)"
            )
        });
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&python)
            .arg(SINK)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the mail sink did not start: {line:?}"));
        MailSink { child, dir, port }
    }

    /// The `[smtp]` section that sends to this sink.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"wani <noreply@wani.test>\"\n{extra}\n",
            self.port
        )
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        files.sort();
        files
    }

    /// Messages received so far, oldest first.
    pub fn received(&self) -> Vec<Mail> {
        self.files()
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).unwrap();
                let (head, body) = text.split_once("\n\n").unwrap();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(name))
                        .unwrap_or("")
                        .to_owned()
                };
                Mail {
                    to: header("To: "),
                    subject: header("Subject: "),
                    body: body.to_owned(),
                }
            })
            .collect()
    }

    /// Waits (at most 20 s) until `count` messages have arrived, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Mail> {
        for _ in 0..1000 {
            if self.files().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mails = self.received();
        assert!(mails.len() >= count, "{} of {count} messages", mails.len());
        mails
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
