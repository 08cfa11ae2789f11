//! The `wani` command line: its grammar, its help pages and its usage errors.

use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve(Common),
    Backup {
        common: Common,
        verify: bool,
    },
    Restore {
        common: Common,
        snapshot: Option<String>,
        force: bool,
    },
    Thumbnail {
        input: PathBuf,
        output: PathBuf,
        size: u32,
    },
    /// `check-config [--config FILE]`: only `common.config` is ever set.
    CheckConfig(Common),
    /// `wani user add NAME --role ROLE [--boards b,c]`.
    UserAdd {
        common: Common,
        user: wani::auth::add::NewUser,
    },
    /// `--help`, `-h` or `help [COMMAND]`: the page to print, on stdout, exit 0.
    Help(Topic),
    Version,
}

/// The settings every command that opens the data directory takes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Common {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
}

/// A help page: the overview or one subcommand's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Overview,
    Backup,
    Restore,
    Thumbnail,
    CheckConfig,
    User,
}

impl Topic {
    fn parse(name: &str) -> Option<Topic> {
        match name {
            "backup" => Some(Topic::Backup),
            "restore" => Some(Topic::Restore),
            "thumbnail" => Some(Topic::Thumbnail),
            "check-config" => Some(Topic::CheckConfig),
            "user" => Some(Topic::User),
            _ => None,
        }
    }

    /// How to ask for this page, for the hint under a usage error.
    pub fn help_command(self) -> &'static str {
        match self {
            Topic::Overview => "wani --help",
            Topic::Backup => "wani backup --help",
            Topic::Restore => "wani restore --help",
            Topic::Thumbnail => "wani thumbnail --help",
            Topic::CheckConfig => "wani check-config --help",
            Topic::User => "wani user add --help",
        }
    }

    pub fn page(self) -> &'static str {
        match self {
            Topic::Overview => OVERVIEW,
            Topic::Backup => BACKUP,
            Topic::Restore => RESTORE,
            Topic::Thumbnail => THUMBNAIL,
            Topic::CheckConfig => CHECK_CONFIG,
            Topic::User => USER,
        }
    }
}

/// A usage error: one sentence, and the help page that would have avoided it.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError {
    pub message: String,
    pub topic: Topic,
}

const OVERVIEW: &str = "\
usage: wani [--config FILE] [--listen ADDR] [--data DIR]
       wani backup [--verify] [--config FILE] [--data DIR]
       wani restore [--snapshot NAME] [--force] [--config FILE] [--data DIR]
       wani thumbnail IN OUT [--size N]
       wani check-config [--config FILE]
       wani user add NAME --role ROLE [--boards B,C] [--config FILE] [--data DIR]
       wani help [COMMAND]

Runs the wani imageboard server.

  --config FILE   read settings from FILE (default: $WANI_CONFIG, else built-in defaults)
  --listen ADDR   address to listen on, overriding the config (e.g. 127.0.0.1:8080)
  --data DIR      data directory, overriding the config
  -h, --help      print this help (`wani COMMAND --help` for a command's)
  -V, --version   print the version

Commands:
  backup        take a database snapshot now and upload it to S3, or --verify the backup
  restore       rebuild the data directory from a snapshot in S3
  thumbnail     make one WebP thumbnail with the server's own code path
  check-config  read and validate the config, and print what it sets
  user add      create an account (for a server with signup closed)
";

const CHECK_CONFIG: &str = "\
usage: wani check-config [--config FILE]

Reads and validates the config as the server would at start, without opening the data
directory, and prints what it found: the address, the data directory, the trusted proxies, the
boards and the largest max_post_bytes (what nginx's client_max_body_size must allow), the
backup. Secrets are never printed. A config that would not start the server prints its one-line
error and exits 2.

  --config FILE   the file to check (default: $WANI_CONFIG, else built-in defaults)
";

const USER: &str = "\
usage: wani user add NAME --role ROLE [--boards B,C] [--config FILE] [--data DIR]

Creates the account NAME, through the server running on the data directory, or directly on
the database when none runs. Prints NAME, its role and a generated password on stdout, once:
give it to the user, who logs in with it and changes it (POST /auth/changePassword).

  --role ROLE     admin, global_mod, board_mod, janitor or user
  --boards B,C    the boards of a board_mod or janitor, comma-separated
  --config FILE   read settings from FILE (default: $WANI_CONFIG, else built-in defaults)
  --data DIR      data directory, overriding the config
";

const BACKUP: &str = "\
usage: wani backup [--verify] [--config FILE] [--data DIR]

Has the server running on the data directory take a database snapshot now and waits for its
upload to S3 (with no server running, takes the snapshot itself). Needs the config's [s3].

  --verify        check instead that every referenced file is in the bucket with the right size
                  and hash, and that the newest snapshot restores to the counts of its manifest
  --config FILE   read settings from FILE (default: $WANI_CONFIG, else built-in defaults)
  --data DIR      data directory, overriding the config
";

const RESTORE: &str = "\
usage: wani restore [--snapshot NAME] [--force] [--config FILE] [--data DIR]

With the server stopped, rebuilds the data directory from the newest snapshot in S3 and
downloads every referenced file missing on disk. Needs the config's [s3].

  --snapshot NAME restore this snapshot instead of the newest
  --force         restore into a data directory that is not empty
  --config FILE   read settings from FILE (default: $WANI_CONFIG, else built-in defaults)
  --data DIR      data directory, overriding the config
";

const THUMBNAIL: &str = "\
usage: wani thumbnail IN OUT [--size N]

Makes one WebP thumbnail of the image IN and writes it to OUT, with the server's own code path;
prints `WxH N bytes`. Exits 1 when IN is refused or unreadable or OUT cannot be written.

  --size N        longest side in pixels, 1 to 16384 (default 250; never enlarged)
";

/// Parses the arguments after the program name.
pub fn parse(argv: &[String]) -> Result<Command, UsageError> {
    let (topic, rest) = match argv.first().map(String::as_str) {
        Some("help") => return help(&argv[1..]),
        Some(name) => match Topic::parse(name) {
            Some(topic) => (topic, &argv[1..]),
            None if name.starts_with('-') => (Topic::Overview, argv),
            None => {
                return Err(UsageError {
                    message: format!(
                        "unknown command `{name}` (the commands are backup, restore, thumbnail, \
                         check-config, user)"
                    ),
                    topic: Topic::Overview,
                })
            }
        },
        None => (Topic::Overview, argv),
    };
    let err = |message: String| UsageError { message, topic };
    // `wani user add`: the only `user` subcommand so far.
    let rest = match (topic, rest.first().map(String::as_str)) {
        (Topic::User, Some("add")) => &rest[1..],
        (Topic::User, Some("--help" | "-h")) => return Ok(Command::Help(topic)),
        (Topic::User, other) => {
            return Err(err(match other {
                Some(other) => {
                    format!("unknown command `user {other}` (the command is `user add`)")
                }
                None => "`wani user` needs a subcommand: `wani user add`".into(),
            }))
        }
        _ => rest,
    };
    let (mut role, mut boards) = (None, None);
    let mut common = Common::default();
    let (mut verify, mut force, mut snapshot, mut size) = (false, false, None, None);
    let mut positional = Vec::new();
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        // `--name=value` is `--name value`.
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| err(format!("{name} needs a value")))
        };
        let thumbnail = topic == Topic::Thumbnail;
        let check = topic == Topic::CheckConfig;
        match (topic, name) {
            (_, "--help" | "-h") => return Ok(Command::Help(topic)),
            (_, "--version" | "-V") => return Ok(Command::Version),
            (_, "--config") if !thumbnail => common.config = Some(value()?.into()),
            (_, "--data") if !thumbnail && !check => common.data = Some(value()?.into()),
            (Topic::Overview, "--listen") => common.listen = Some(value()?),
            (Topic::Backup, "--verify") => verify = true,
            (Topic::Restore, "--snapshot") => snapshot = Some(value()?),
            (Topic::Restore, "--force") => force = true,
            (Topic::User, "--role") => role = Some(value()?),
            (Topic::User, "--boards") => {
                boards = Some(value()?.split(',').map(str::to_owned).collect::<Vec<_>>())
            }
            (Topic::User, other) if !other.starts_with('-') => positional.push(PathBuf::from(arg)),
            (Topic::Thumbnail, "--size") => {
                let text = value()?;
                match text.parse::<u32>() {
                    Ok(n) if (1..=16_384).contains(&n) => size = Some(n),
                    _ => {
                        return Err(err(format!(
                            "--size `{text}`: give the longest side in pixels, from 1 to 16384"
                        )))
                    }
                }
            }
            (Topic::Thumbnail, other) if !other.starts_with('-') || other == "-" => {
                positional.push(PathBuf::from(arg))
            }
            (_, other) => {
                let message = match topic {
                    Topic::Overview => format!("unknown argument `{other}`"),
                    _ => format!(
                        "unknown argument `{other}` for `{}`",
                        topic.help_command().trim_end_matches(" --help")
                    ),
                };
                return Err(err(message));
            }
        }
    }
    Ok(match topic {
        Topic::Overview => Command::Serve(common),
        Topic::Backup => Command::Backup { common, verify },
        Topic::Restore => Command::Restore {
            common,
            snapshot,
            force,
        },
        Topic::CheckConfig => Command::CheckConfig(common),
        Topic::User => {
            let [name] = positional.as_slice() else {
                return Err(err(format!("needs one username, got {}", positional.len())));
            };
            let role = role.ok_or_else(|| err("--role is needed".into()))?;
            Command::UserAdd {
                common,
                user: wani::auth::add::NewUser {
                    username: name.to_string_lossy().into_owned(),
                    role,
                    boards: boards.unwrap_or_default(),
                },
            }
        }
        Topic::Thumbnail => {
            let Ok([input, output]) = <[PathBuf; 2]>::try_from(positional.clone()) else {
                return Err(err(format!(
                    "needs an input and an output file, got {} path{}",
                    positional.len(),
                    if positional.len() == 1 { "" } else { "s" }
                )));
            };
            Command::Thumbnail {
                input,
                output,
                size: size.unwrap_or(wani::media::SIZE_DEFAULT),
            }
        }
    })
}

/// `wani help [COMMAND]`.
fn help(rest: &[String]) -> Result<Command, UsageError> {
    match rest {
        [] => Ok(Command::Help(Topic::Overview)),
        [name] => Topic::parse(name).map(Command::Help).ok_or(UsageError {
            message: format!(
                "no help for `{name}` (the commands are backup, restore, thumbnail, \
                 check-config, user)"
            ),
            topic: Topic::Overview,
        }),
        [_, extra, ..] => Err(UsageError {
            message: format!("unknown argument `{extra}` for `wani help`"),
            topic: Topic::Overview,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, UsageError> {
        let argv: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        parse(&argv)
    }

    fn common(config: Option<&str>, listen: Option<&str>, data: Option<&str>) -> Common {
        Common {
            config: config.map(PathBuf::from),
            listen: listen.map(str::to_owned),
            data: data.map(PathBuf::from),
        }
    }

    #[test]
    fn accepted_lines() {
        let thumb = |i: &str, o: &str, size| Command::Thumbnail {
            input: i.into(),
            output: o.into(),
            size,
        };
        let cases = [
            ("", Command::Serve(Common::default())),
            (
                "--config c.toml --listen 127.0.0.1:1 --data d",
                Command::Serve(common(Some("c.toml"), Some("127.0.0.1:1"), Some("d"))),
            ),
            (
                "--config=c.toml --data=d",
                Command::Serve(common(Some("c.toml"), None, Some("d"))),
            ),
            (
                "backup --verify --data d",
                Command::Backup {
                    common: common(None, None, Some("d")),
                    verify: true,
                },
            ),
            (
                "restore --snapshot 20000101T000000.000Z --force --config c",
                Command::Restore {
                    common: common(Some("c"), None, None),
                    snapshot: Some("20000101T000000.000Z".into()),
                    force: true,
                },
            ),
            ("thumbnail a.jpg b.webp", thumb("a.jpg", "b.webp", 250)),
            (
                "thumbnail --size 90 a.jpg b.webp",
                thumb("a.jpg", "b.webp", 90),
            ),
            (
                "thumbnail a.jpg b.webp --size=16384",
                thumb("a.jpg", "b.webp", 16384),
            ),
            ("help", Command::Help(Topic::Overview)),
            ("help restore", Command::Help(Topic::Restore)),
            ("-h", Command::Help(Topic::Overview)),
            ("--data d --help", Command::Help(Topic::Overview)),
            ("thumbnail --help", Command::Help(Topic::Thumbnail)),
            ("thumbnail a.jpg -h", Command::Help(Topic::Thumbnail)),
            ("backup --help", Command::Help(Topic::Backup)),
            ("restore --force --help", Command::Help(Topic::Restore)),
            ("--version", Command::Version),
            ("backup -V", Command::Version),
            ("check-config", Command::CheckConfig(Common::default())),
            (
                "check-config --config /etc/wani/config.toml",
                Command::CheckConfig(common(Some("/etc/wani/config.toml"), None, None)),
            ),
            ("check-config --help", Command::Help(Topic::CheckConfig)),
            ("help check-config", Command::Help(Topic::CheckConfig)),
            (
                "user add Ann --role board_mod --boards b,t --data d",
                Command::UserAdd {
                    common: common(None, None, Some("d")),
                    user: wani::auth::add::NewUser {
                        username: "Ann".into(),
                        role: "board_mod".into(),
                        boards: vec!["b".into(), "t".into()],
                    },
                },
            ),
            ("user add --help", Command::Help(Topic::User)),
            ("help user", Command::Help(Topic::User)),
        ];
        for (line, want) in cases {
            assert_eq!(parse_str(line), Ok(want), "{line}");
        }
    }

    #[test]
    fn refused_lines_name_the_problem_and_the_page() {
        let cases = [
            (
                "--frobnicate",
                "unknown argument `--frobnicate`",
                Topic::Overview,
            ),
            ("--listen", "--listen needs a value", Topic::Overview),
            ("--config", "--config needs a value", Topic::Overview),
            (
                "frobnicate",
                "unknown command `frobnicate`",
                Topic::Overview,
            ),
            (
                "backup --force",
                "`--force` for `wani backup`",
                Topic::Backup,
            ),
            (
                "backup --listen x",
                "`--listen` for `wani backup`",
                Topic::Backup,
            ),
            (
                "backup --snapshot x",
                "`--snapshot` for `wani backup`",
                Topic::Backup,
            ),
            (
                "restore --verify",
                "`--verify` for `wani restore`",
                Topic::Restore,
            ),
            (
                "restore --snapshot",
                "--snapshot needs a value",
                Topic::Restore,
            ),
            ("thumbnail a", "got 1 path", Topic::Thumbnail),
            ("thumbnail a b c", "got 3 paths", Topic::Thumbnail),
            ("thumbnail a b --size 0", "--size `0`", Topic::Thumbnail),
            ("thumbnail a b --size big", "--size `big`", Topic::Thumbnail),
            (
                "thumbnail a b --size",
                "--size needs a value",
                Topic::Thumbnail,
            ),
            (
                "thumbnail a b --bogus",
                "`--bogus` for `wani thumbnail`",
                Topic::Thumbnail,
            ),
            (
                "thumbnail a b --data d",
                "`--data` for `wani thumbnail`",
                Topic::Thumbnail,
            ),
            ("user add ann", "--role is needed", Topic::User),
            (
                "user add --role admin",
                "needs one username, got 0",
                Topic::User,
            ),
            (
                "user add a b --role admin",
                "needs one username, got 2",
                Topic::User,
            ),
            ("user del ann", "unknown command `user del`", Topic::User),
            ("user", "needs a subcommand", Topic::User),
            (
                "user add ann --role admin --listen x",
                "unknown argument `--listen`",
                Topic::User,
            ),
            (
                "check-config --data d",
                "`--data` for `wani check-config`",
                Topic::CheckConfig,
            ),
            (
                "check-config --listen 127.0.0.1:1",
                "`--listen` for `wani check-config`",
                Topic::CheckConfig,
            ),
            (
                "check-config extra",
                "`extra` for `wani check-config`",
                Topic::CheckConfig,
            ),
            (
                "check-config --config",
                "--config needs a value",
                Topic::CheckConfig,
            ),
            (
                "help frobnicate",
                "no help for `frobnicate`",
                Topic::Overview,
            ),
            (
                "help backup restore",
                "`restore` for `wani help`",
                Topic::Overview,
            ),
        ];
        for (line, needle, topic) in cases {
            let e = parse_str(line).expect_err(line);
            assert!(e.message.contains(needle), "{line}: {}", e.message);
            assert_eq!(e.topic, topic, "{line}");
        }
    }

    #[test]
    fn every_page_starts_with_its_usage_and_mentions_its_flags() {
        let cases = [
            (
                Topic::Overview,
                &["--config", "--listen", "--data", "--help"][..],
            ),
            (Topic::Backup, &["--verify", "--config", "--data"]),
            (
                Topic::Restore,
                &["--snapshot", "--force", "--config", "--data"],
            ),
            (Topic::Thumbnail, &["--size"]),
            (Topic::CheckConfig, &["--config"]),
            (Topic::User, &["--role", "--boards", "--config", "--data"]),
        ];
        for (topic, flags) in cases {
            let page = topic.page();
            let command = topic.help_command().trim_end_matches(" --help");
            assert!(page.starts_with(&format!("usage: {command}")), "{page}");
            for flag in flags {
                assert!(page.contains(flag), "{topic:?}: {flag}");
            }
        }
    }
}
