use serde_json::json;

use super::*;

fn base() -> Board {
    Board {
        slug: "t".into(),
        title: "Test".into(),
        ..Board::default()
    }
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[test]
fn each_setting_is_checked_for_type_and_bounds() {
    // (patch, None when taken, or the error kind and the field it names)
    let cases: Vec<(Value, Option<(ErrorKind, &str)>)> = vec![
        (json!({"title": "New"}), None),
        (json!({"title": ""}), Some((ErrorKind::Empty, "title"))),
        (
            json!({"title": "\u{200b} "}),
            Some((ErrorKind::Empty, "title")),
        ),
        (
            json!({"title": "x".repeat(101)}),
            Some((ErrorKind::TooLong, "title")),
        ),
        (
            json!({"title": "a\nb"}),
            Some((ErrorKind::ControlCharacters, "title")),
        ),
        (json!({"title": 5}), Some((ErrorKind::InvalidType, "title"))),
        (json!({"description": "two\nlines"}), None),
        (
            json!({"description": "x".repeat(1001)}),
            Some((ErrorKind::TooLong, "description")),
        ),
        (json!({"bump_limit": 0}), None),
        (json!({"bump_limit": 1_000_000}), None),
        (
            json!({"bump_limit": 1_000_001}),
            Some((ErrorKind::OutOfRange, "bump_limit")),
        ),
        (
            json!({"thread_limit": 0}),
            Some((ErrorKind::OutOfRange, "thread_limit")),
        ),
        (
            json!({"thread_limit": -1}),
            Some((ErrorKind::OutOfRange, "thread_limit")),
        ),
        (
            json!({"thread_limit": 1.5}),
            Some((ErrorKind::InvalidType, "thread_limit")),
        ),
        (
            json!({"thread_limit": "10"}),
            Some((ErrorKind::InvalidType, "thread_limit")),
        ),
        (
            json!({"thread_limit": null}),
            Some((ErrorKind::InvalidType, "thread_limit")),
        ),
        (
            json!({"threads_per_page": 101}),
            Some((ErrorKind::OutOfRange, "threads_per_page")),
        ),
        (
            json!({"max_body_chars": 20_001}),
            Some((ErrorKind::OutOfRange, "max_body_chars")),
        ),
        (
            json!({"max_files": 33}),
            Some((ErrorKind::OutOfRange, "max_files")),
        ),
        (json!({"max_files": 0}), None),
        (
            json!({"max_files": 0, "require_file": true}),
            Some((ErrorKind::InvalidValue, "require_file")),
        ),
        (
            json!({"require_file": "yes"}),
            Some((ErrorKind::InvalidType, "require_file")),
        ),
        (json!({"allowed_types": ["png", "gif"]}), None),
        (json!({"allowed_types": []}), None),
        (
            json!({"allowed_types": ["svg"]}),
            Some((ErrorKind::InvalidValue, "allowed_types")),
        ),
        (
            json!({"allowed_types": ["png", "png"]}),
            Some((ErrorKind::InvalidValue, "allowed_types")),
        ),
        (
            json!({"allowed_types": ["webm"]}),
            Some((ErrorKind::InvalidValue, "allowed_types")),
        ),
        (
            json!({"allowed_types": "png"}),
            Some((ErrorKind::InvalidType, "allowed_types")),
        ),
        (
            json!({"allowed_types": [1]}),
            Some((ErrorKind::InvalidType, "allowed_types")),
        ),
        (
            json!({"max_file_bytes": 0}),
            Some((ErrorKind::OutOfRange, "max_file_bytes")),
        ),
        (
            json!({"max_post_bytes": 1000}),
            Some((ErrorKind::OutOfRange, "max_file_bytes")),
        ),
        (
            json!({"max_post_bytes": 1000, "max_file_bytes": 1000}),
            None,
        ),
        (
            json!({"max_post_bytes": (1u64 << 30) + 1}),
            Some((ErrorKind::OutOfRange, "max_post_bytes")),
        ),
        (
            json!({"max_image_width": 0}),
            Some((ErrorKind::OutOfRange, "max_image_width")),
        ),
        (
            json!({"max_image_height": u64::MAX}),
            Some((ErrorKind::OutOfRange, "max_image_height")),
        ),
        (json!({"delete_window_secs": 0}), None),
        (
            json!({"delete_window_secs": 365 * 86_400 + 1}),
            Some((ErrorKind::OutOfRange, "delete_window_secs")),
        ),
        (
            json!({"archive_days": 3651}),
            Some((ErrorKind::OutOfRange, "archive_days")),
        ),
        (
            json!({"max_quotes": 1001}),
            Some((ErrorKind::OutOfRange, "max_quotes")),
        ),
        (
            json!({"max_replies": 0}),
            Some((ErrorKind::OutOfRange, "max_replies")),
        ),
        (json!({"rules": "1. no spam\n2. **be kind**"}), None),
        (
            json!({"rules": "x".repeat(10_001)}),
            Some((ErrorKind::TooLong, "rules")),
        ),
        (
            json!({"rules": "a\u{0}b"}),
            Some((ErrorKind::ControlCharacters, "rules")),
        ),
        (json!({"nsfw": true}), None),
        (json!({"nsfw": 1}), Some((ErrorKind::InvalidType, "nsfw"))),
        (json!({"public_log_names": true}), None),
        (
            json!({"public_log_names": "yes"}),
            Some((ErrorKind::InvalidType, "public_log_names")),
        ),
        (
            json!({"rules_html": "<script>"}),
            Some((ErrorKind::UnknownField, "rules_html")),
        ),
        (
            json!({"slug": "u"}),
            Some((ErrorKind::UnknownField, "slug")),
        ),
        (
            json!({"titel": "x"}),
            Some((ErrorKind::UnknownField, "titel")),
        ),
    ];
    for (patch, expected) in cases {
        let result = apply(&base(), &object(patch.clone()), false);
        let got = result
            .as_ref()
            .err()
            .map(|e| (e.kind, e.field.as_deref().unwrap_or("")));
        assert_eq!(got, expected, "{patch}");
        if let Err(e) = result {
            let field = e.field.unwrap();
            assert!(e.message.contains(&field), "{patch}: {}", e.message);
        }
    }
}

#[test]
fn video_types_need_a_server_that_takes_video() {
    let patch = object(json!({"allowed_types": ["webm", "png"]}));
    assert!(apply(&base(), &patch, false).is_err());
    let (board, _) = apply(&base(), &patch, true).unwrap();
    assert_eq!(board.allowed_types, ["webm", "png"]);
}

#[test]
fn a_change_reports_only_what_it_changed() {
    let patch = object(json!({"title": "Test", "nsfw": true, "rules": "a\u{200b}b"}));
    let (board, diff) = apply(&base(), &patch, false).unwrap();
    assert!(board.nsfw);
    // Invisible characters are removed before storing, as in posts.
    assert_eq!(board.rules, "ab");
    assert_eq!(
        Value::Object(diff),
        json!({"nsfw": {"old": false, "new": true}, "rules": {"old": "", "new": "ab"}})
    );
}

#[test]
fn a_new_board_needs_a_good_slug_and_a_title() {
    let cases: Vec<(Value, Option<(ErrorKind, &str)>)> = vec![
        (json!({"slug": "g", "title": "Games"}), None),
        (
            json!({"title": "Games"}),
            Some((ErrorKind::MissingField, "slug")),
        ),
        (
            json!({"slug": "g"}),
            Some((ErrorKind::MissingField, "title")),
        ),
        (
            json!({"slug": 7, "title": "x"}),
            Some((ErrorKind::InvalidType, "slug")),
        ),
        (
            json!({"slug": "G", "title": "x"}),
            Some((ErrorKind::InvalidValue, "slug")),
        ),
        (
            json!({"slug": "", "title": "x"}),
            Some((ErrorKind::InvalidValue, "slug")),
        ),
        (
            json!({"slug": "a".repeat(17), "title": "x"}),
            Some((ErrorKind::InvalidValue, "slug")),
        ),
        (
            json!({"slug": "api", "title": "x"}),
            Some((ErrorKind::InvalidValue, "slug")),
        ),
        (
            json!({"slug": "g", "title": "x", "max_files": 99}),
            Some((ErrorKind::OutOfRange, "max_files")),
        ),
    ];
    for (fields, expected) in cases {
        let got = new_board(&object(fields.clone()), false)
            .err()
            .map(|e| (e.kind, e.field.unwrap_or_default()));
        let expected = expected.map(|(k, f)| (k, f.to_owned()));
        assert_eq!(got, expected, "{fields}");
    }
    let board = new_board(&object(json!({"slug": "g", "title": "Games"})), false).unwrap();
    assert_eq!(board.thread_limit, Board::default().thread_limit);
    assert!(
        !board.allowed_types.iter().any(|t| t == "webm"),
        "no video without ffmpeg"
    );
}

#[test]
fn the_defaults_pass_their_own_checks() {
    check_board(&base(), true).unwrap();
    let err = check_board(&base(), false).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("allowed_types"));
}

/// The OpenAPI document's `Board` schema states the same bounds as [`SETTINGS`].
#[test]
fn the_openapi_board_schema_states_these_bounds() {
    let doc: Value = serde_json::from_str(include_str!("../http/openapi.json")).unwrap();
    let properties = &doc["components"]["schemas"]["Board"]["properties"];
    for setting in SETTINGS {
        let schema = &properties[setting.name];
        let name = setting.name;
        match setting.kind {
            Kind::Number { min, max } => {
                assert_eq!(schema["type"], "integer", "{name}");
                assert_eq!(schema["minimum"], min, "{name}");
                assert_eq!(schema["maximum"], max, "{name}");
            }
            Kind::Flag => assert_eq!(schema["type"], "boolean", "{name}"),
            Kind::Text { max, required, .. } => {
                assert_eq!(schema["type"], "string", "{name}");
                assert_eq!(schema["maxLength"], max, "{name}");
                assert_eq!(schema["minLength"] == 1, required, "{name}");
            }
            Kind::FileTypes => {
                assert_eq!(schema["type"], "array", "{name}");
                assert_eq!(schema["items"]["enum"], json!(FILE_TYPES), "{name}");
            }
        }
    }
}
