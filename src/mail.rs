//! Outgoing mail: the `[smtp]` section of the config, email addresses, and the password reset
//! message, sent with `lettre` off the request path.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult, ErrorKind};

/// Longest address accepted, in bytes (RFC 5321's path limit less the brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain SMTP: only for a relay on the same machine (`localhost`).
    None,
    /// Plain SMTP upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The `[smtp]` table. Without it, password reset links are only issued by admins.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The SMTP server's host name (checked against its certificate with TLS).
    pub host: String,
    /// None: 25 with `security = "none"`, 587 with `starttls`, 465 with `tls`.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default = "default_security")]
    pub security: Security,
    /// Login name at the SMTP server, when it wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the SMTP password (its first line); needs `username`.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The sender, `wani <noreply@example.org>` or a bare address.
    pub from: String,
    /// Prepended to the token to make the link in the message (`https://example.org/reset#`);
    /// None: the message gives the token alone, to paste into `POST /auth/reset`.
    #[serde(default)]
    pub reset_url: Option<String>,
    /// Seconds one delivery may take, connection included.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Recovery requests one client network may make per hour; more get 429.
    #[serde(default = "default_per_address")]
    pub recover_per_address_per_hour: u32,
    /// Reset messages one account may receive per hour; further requests are answered the
    /// same and send nothing.
    #[serde(default = "default_per_account")]
    pub recover_per_account_per_hour: u32,
}

fn default_security() -> Security {
    Security::None
}
fn default_timeout() -> u64 {
    30
}
fn default_per_address() -> u32 {
    10
}
fn default_per_account() -> u32 {
    3
}

// The password file's path is no secret, but keep the shape of S3Config's redaction.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.host.is_empty() || self.host.len() > 253 || self.host.contains(['/', ' ', '@']) {
            return Err("[smtp] host must be a host name or address".into());
        }
        if self.port == Some(0) {
            return Err("[smtp] port must be from 1 to 65535".into());
        }
        if self.password_file.is_some() && self.username.is_none() {
            return Err("[smtp] password_file needs username".into());
        }
        self.from
            .parse::<Mailbox>()
            .map_err(|e| format!("[smtp] from: `{}` is not a mail address: {e}", self.from))?;
        if let Some(url) = &self.reset_url {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || url.len() > 512 || url.chars().any(char::is_whitespace) {
                return Err("[smtp] reset_url must be an http(s) URL without spaces".into());
            }
        }
        if !(1..=600).contains(&self.timeout_secs) {
            return Err("[smtp] timeout_secs must be from 1 to 600".into());
        }
        for (key, n) in [
            (
                "recover_per_address_per_hour",
                self.recover_per_address_per_hour,
            ),
            (
                "recover_per_account_per_hour",
                self.recover_per_account_per_hour,
            ),
        ] {
            if !(1..=10_000).contains(&n) {
                return Err(format!("[smtp] {key} must be from 1 to 10000"));
            }
        }
        Ok(())
    }
}

/// An address as stored and compared: trimmed and lowercased, `local@domain` with a plain
/// ASCII local part and a host name of letters, digits and hyphens. Stricter than RFC 5322 on
/// purpose: what is accepted here is what every mail server takes.
pub fn normalize_email(text: &str) -> ApiResult<String> {
    let bad = |why: &str| {
        ApiError::new(
            ErrorKind::InvalidEmail,
            format!("This is not a usable email address: {why}."),
        )
        .with_field("email")
    };
    let email = text.trim().to_ascii_lowercase();
    if email.len() > MAX_EMAIL_BYTES {
        return Err(bad("it is over 254 characters"));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(bad("it has no @"));
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
    if !local_ok {
        return Err(bad(
            "the part before the @ has characters mail servers refuse",
        ));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !domain.split('.').all(label_ok) {
        return Err(bad("the part after the @ is not a host name"));
    }
    Ok(email)
}

/// A connection recipe for the configured SMTP server; each message opens its own
/// connection, as resets are rare.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reset_url: Option<String>,
}

impl Mailer {
    /// Builds the transport; reads the password file. Errors are for the admin at start.
    pub fn new(config: &SmtpConfig) -> Result<Mailer, String> {
        let (tls, port) = match config.security {
            Security::None => (Tls::None, 25),
            Security::Starttls => (Tls::Required(tls_parameters(&config.host)?), 587),
            Security::Tls => (Tls::Wrapper(tls_parameters(&config.host)?), 465),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port.unwrap_or(port))
            .tls(tls)
            .timeout(Some(Duration::from_secs(config.timeout_secs)));
        if let Some(username) = &config.username {
            let password = match &config.password_file {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| format!("[smtp] cannot read {}: {e}", path.display()))?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                None => String::new(),
            };
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from: config
                .from
                .parse()
                .map_err(|e| format!("[smtp] from: {e}"))?,
            reset_url: config.reset_url.clone(),
        })
    }

    /// Mails a reset token to `to`. The error is for `notify`: it may name the SMTP server.
    pub async fn send_reset(
        &self,
        to: &str,
        username: &str,
        token: &str,
        valid_mins: u64,
    ) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("the address: {e}"))?;
        let how = match &self.reset_url {
            Some(url) => format!("open this link to choose a new password:\n\n{url}{token}\n"),
            None => {
                format!("send this token with a new password to POST /auth/reset:\n\n{token}\n")
            }
        };
        let body = format!(
            "Someone asked to reset the password of the account `{username}`. If it was you,\n\
             {how}\n\
             It works once, for {valid_mins} minutes. If it was not you, ignore this message:\n\
             the password stays as it is.\n"
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject("Password reset")
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, String> {
    TlsParameters::new_rustls(host.to_owned()).map_err(|e| format!("[smtp] TLS for {host}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_normalize_or_are_refused() {
        let good = [
            ("Ann@Example.ORG", "ann@example.org"),
            ("  bob+wani@mail.example.com ", "bob+wani@mail.example.com"),
            ("root@localhost", "root@localhost"),
        ];
        for (text, want) in good {
            assert_eq!(normalize_email(text).unwrap(), want, "{text}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        let bad = [
            "",
            "ann",
            "@example.org",
            "ann@",
            "ann@@example.org",
            "a b@example.org",
            "ann@exa mple.org",
            "ann@-example.org",
            "ann@example..org",
            ".ann@example.org",
            "an..n@example.org",
            "ann\"x@example.org",
            "änn@example.org",
            "ann@exämple.org",
            "ann@example.org\r\nBcc: x@y.z",
            long.as_str(),
        ];
        for text in bad {
            let err = normalize_email(text).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidEmail, "{text:?}");
        }
    }

    #[test]
    fn every_normalized_address_is_a_mailbox() {
        for text in ["ann@example.org", "o'neil+x=y@a-b.example"] {
            let email = normalize_email(text).unwrap();
            assert!(email.parse::<Mailbox>().is_ok(), "{email}");
        }
    }

    #[test]
    fn config_checks() {
        let base = "[smtp]\nhost = \"localhost\"\nfrom = \"wani <noreply@example.org>\"\n";
        let config = crate::config::Config::parse(base).unwrap();
        let smtp = config.smtp.unwrap();
        assert_eq!(smtp.security, Security::None);
        assert!(Mailer::new(&smtp).is_ok());
        let bad = [
            ("from = \"not an address\"", "from"),
            ("security = \"ssl\"", "ssl"),
            ("port = 0", "port"),
            ("reset_url = \"ftp://x/\"", "reset_url"),
            ("timeout_secs = 0", "timeout_secs"),
            ("recover_per_account_per_hour = 0", "recover_per_account"),
            ("password_file = \"/x\"", "username"),
            ("hots = \"x\"", "hots"),
        ];
        for (line, named) in bad {
            let text = base.replace("from =", &format!("{line}\nfrom ="));
            let text = if line.starts_with("from") {
                format!("[smtp]\nhost = \"localhost\"\n{line}\n")
            } else {
                text
            };
            let err = crate::config::Config::parse(&text).unwrap_err();
            assert!(err.contains(named), "{line}: {err}");
        }
    }
}
