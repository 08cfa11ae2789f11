//! The config's unit tests: defaults, the example file, and what is refused.

use super::*;

#[test]
fn embedded_defaults_are_valid() {
    let config = Config::default();
    config.validate().unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.boards[0].slug, "b");
    assert_eq!(config.boards[0].title, "Random");
}

#[test]
fn example_file_parses_to_the_defaults() {
    let text = include_str!("../../config.example.toml");
    let config = Config::parse(text).unwrap();
    let default = Config::default();
    assert_eq!(config.listen, default.listen);
    assert_eq!(config.data_dir, default.data_dir);
    assert_eq!(config.trusted_proxies, default.trusted_proxies);
    assert_eq!(config.max_connections, default.max_connections);
    let slots = |c: &Config| {
        [
            c.max_connections_per_client as u64,
            c.max_streams_per_client as u64,
            c.header_timeout_secs,
            c.body_timeout_secs,
            c.write_timeout_secs,
            c.stream_max_secs,
        ]
    };
    assert_eq!(slots(&config), slots(&default));
    assert_eq!(config.shutdown_grace_secs, default.shutdown_grace_secs);
    assert_eq!(config.cache_bytes, default.cache_bytes);
    assert_eq!(config.delete_limits(), default.delete_limits());
    assert_eq!(config.flood_control, default.flood_control);
    assert_eq!(
        (
            config.request_budget_per_minute,
            config.request_budget_burst
        ),
        (
            default.request_budget_per_minute,
            default.request_budget_burst
        )
    );
    assert_eq!(config.dnsbl_zones, default.dnsbl_zones);
    assert_eq!(config.dnsbl_server, default.dnsbl_server);
    assert_eq!(
        (config.dnsbl_timeout_ms, config.dnsbl_cache_secs),
        (default.dnsbl_timeout_ms, default.dnsbl_cache_secs)
    );
    assert_eq!(config.thumbnail_size, default.thumbnail_size);
    assert_eq!(config.ffmpeg_path, default.ffmpeg_path);
    assert_eq!(config.boards, default.boards);
    assert_eq!(config.s3, default.s3);
    assert_eq!(config.accounts, default.accounts);
    assert_eq!(config.smtp, default.smtp);
    assert_eq!(config.captcha, default.captcha);
    assert_eq!(config.ip_retention_days, default.ip_retention_days);
}

#[test]
fn address_retention_takes_fractions_of_a_day() {
    // (key's value, seconds kept; None: refused)
    let cases = [
        ("30", Some(30 * 86_400)),
        ("0.5", Some(43_200)),
        ("0.00002", Some(2)),
        ("1e-9", Some(1)),
        ("3650", Some(3650 * 86_400)),
        ("0", None),
        ("-1", None),
        ("3651", None),
        ("nan", None),
        ("inf", None),
    ];
    for (value, want) in cases {
        let parsed = Config::parse(&format!("ip_retention_days = {value}"));
        assert_eq!(
            parsed.as_ref().ok().map(Config::ip_retention_secs),
            want,
            "{value}: {parsed:?}"
        );
        if want.is_none() {
            assert!(parsed.unwrap_err().contains("ip_retention_days"));
        }
    }
}

#[test]
fn s3_section_parses_and_hides_its_secret() {
    let config = Config::parse(
        "[s3]\nbucket = \"wani\"\nsecret_access_key = \"hunter2\"\nsnapshot_interval = \"30m\"",
    )
    .unwrap();
    let s3 = config.s3.unwrap();
    assert_eq!(s3.snapshot_interval.as_secs(), 1800);
    assert!(!format!("{s3:?}").contains("hunter2"));
    let default = Config::parse("[s3]\nbucket = \"wani\"")
        .unwrap()
        .s3
        .unwrap();
    assert_eq!(default.snapshot_interval.as_secs(), 3600);
    for (text, needle) in [
        ("[s3]\nbucket = \"\"", "bucket"),
        ("[s3]\nbucket = \"w\"\nsnapshot_interval = \"5x\"", "5x"),
        ("[s3]\nbucket = \"w\"\nsnapshot_interval = \"9s\"", "10s"),
        ("[s3]\nbucket = \"w\"\nendpoint = \"s3.example\"", "http"),
        ("[s3]\nbucket = \"w\"\nbuckit = \"w\"", "buckit"),
        (
            "[s3]\nbucket = \"w\"\nsecret_access_key = \"a\"\nsecret_access_key_file = \"b\"",
            "not both",
        ),
    ] {
        let err = Config::parse(text).unwrap_err();
        assert!(err.contains(needle), "{text:?} gave {err}");
    }
}

#[test]
fn intervals() {
    assert_eq!(parse_interval("0").unwrap().as_secs(), 0);
    assert_eq!(parse_interval("90s").unwrap().as_secs(), 90);
    assert_eq!(parse_interval("1d").unwrap().as_secs(), 86_400);
    assert!(parse_interval("").is_err());
    assert!(parse_interval("h").is_err());
    assert!(parse_interval("400d").is_err());
    assert!(parse_interval("-1h").is_err());
}

#[test]
fn unknown_keys_are_named() {
    let err = Config::parse("listne = \"127.0.0.1:1\"").unwrap_err();
    assert!(err.contains("listne"), "{err}");
    let err = Config::parse("[[boards]]\nslug = \"a\"\ntitle = \"A\"\nbump_limt = 3").unwrap_err();
    assert!(err.contains("bump_limt"), "{err}");
}

#[test]
fn bad_values_are_refused() {
    let cases = [
        ("[[boards]]\nslug = \"A!\"\ntitle = \"x\"", "slug"),
        ("[[boards]]\nslug = \"a\"\ntitle = \"\"", "title"),
        (
            "[[boards]]\nslug = \"a\"\ntitle = \"x\"\nthread_limit = 0",
            "thread_limit",
        ),
        (
            "[[boards]]\nslug = \"a\"\ntitle = \"x\"\n[[boards]]\nslug = \"a\"\ntitle = \"y\"",
            "twice",
        ),
        ("trusted_proxies = [\"nonsense\"]", "nonsense"),
        ("boards = []", "at least one"),
        (
            "[[boards]]\nslug = \"a\"\ntitle = \"x\"\nallowed_types = [\"svg\"]",
            "svg",
        ),
        (
            "[[boards]]\nslug = \"a\"\ntitle = \"x\"\nmax_file_bytes = 100\nmax_post_bytes = 10",
            "max_file_bytes",
        ),
        ("thumbnail_size = 5", "thumbnail_size"),
        (
            "max_connections_per_client = 0",
            "max_connections_per_client",
        ),
        ("max_streams_per_client = 0", "max_streams_per_client"),
        ("header_timeout_secs = 0", "header_timeout_secs"),
        ("body_timeout_secs = 0", "body_timeout_secs"),
        ("write_timeout_secs = 100000", "write_timeout_secs"),
        ("stream_max_secs = 0", "stream_max_secs"),
        ("request_budget_burst = 0", "request_budget"),
        ("request_budget_per_minute = 200000", "request_budget"),
        ("dnsbl_zones = [\"bad zone\"]", "bad zone"),
        ("dnsbl_zones = [\"a..b\"]", "a..b"),
        ("dnsbl_server = \"resolver\"", "dnsbl_server"),
        ("dnsbl_timeout_ms = 0", "dnsbl_timeout_ms"),
        (
            "[[boards]]\nslug = \"a\"\ntitle = \"x\"\ncooldown_replies_secs = 90000",
            "cooldown_replies_secs",
        ),
    ];
    for (text, needle) in cases {
        let err = Config::parse(text).unwrap_err();
        assert!(err.contains(needle), "{text:?} gave {err}");
    }
}

#[test]
fn reserved_slugs_are_refused() {
    for slug in RESERVED_SLUGS {
        let text = format!("[[boards]]\nslug = \"{slug}\"\ntitle = \"x\"");
        let err = Config::parse(&text).unwrap_err();
        assert!(err.contains("reserved"), "{slug}: {err}");
    }
    Config::parse("[[boards]]\nslug = \"apis\"\ntitle = \"x\"").unwrap();
}

#[test]
fn proxies_take_addresses_and_networks() {
    let config = Config::parse("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]").unwrap();
    assert!(config.trusted_proxies[0].contains(&"10.1.2.3".parse().unwrap()));
    assert!(!config.trusted_proxies[0].contains(&"11.1.2.3".parse().unwrap()));
    assert!(config.trusted_proxies[1].contains(&"::1".parse().unwrap()));
}
