//! Board settings as staff and the config set them: each setting's JSON type and bounds, one
//! table for both, and how a partial change applies to a board.

use serde_json::{Map, Value};

use crate::config::{valid_slug, FILE_TYPES, MAX_SLUG_LEN, RESERVED_SLUGS, VIDEO_TYPES};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::input::{blank, check_text, normalize, Lines};
use crate::model::Board;

/// What a setting holds, with its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer from `min` to `max`.
    Number {
        min: u64,
        max: u64,
    },
    Flag,
    /// Text of at most `max` characters; `required` text may not be blank.
    Text {
        max: u32,
        lines: Lines,
        required: bool,
    },
    /// A list of distinct names from [`FILE_TYPES`].
    FileTypes,
}

/// One editable setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub name: &'static str,
    pub kind: Kind,
}

const fn number(name: &'static str, min: u64, max: u64) -> Setting {
    Setting {
        name,
        kind: Kind::Number { min, max },
    }
}

const fn flag(name: &'static str) -> Setting {
    Setting {
        name,
        kind: Kind::Flag,
    }
}

const fn text(name: &'static str, max: u32, lines: Lines, required: bool) -> Setting {
    Setting {
        name,
        kind: Kind::Text {
            max,
            lines,
            required,
        },
    }
}

/// Longest rules, in characters.
pub const MAX_RULES_CHARS: u32 = 10_000;

/// Every setting of a board but its slug (which names it for good), in the order of
/// [`Board`]. `rules_html` is derived from `rules` and never set directly.
pub const SETTINGS: &[Setting] = &[
    text("title", 100, Lines::One, true),
    text("description", 1000, Lines::Many, false),
    // Tests and small communities use bump limits far past any thread's size: "never stop".
    number("bump_limit", 0, 1_000_000),
    // The catalog is read whole.
    number("thread_limit", 1, 10_000),
    number("threads_per_page", 1, 100),
    // Bodies are read whole before validation; keep them well under the request bound.
    number("max_body_chars", 1, 20_000),
    number("max_subject_chars", 1, 1000),
    number("max_name_chars", 1, 1000),
    number("max_files", 0, 32),
    flag("require_file"),
    Setting {
        name: "allowed_types",
        kind: Kind::FileTypes,
    },
    number("max_file_bytes", 1, 1 << 30),
    number("max_post_bytes", 1, 1 << 30),
    number(
        "max_image_width",
        1,
        crate::media::Limits::CEILING.max_width as u64,
    ),
    number(
        "max_image_height",
        1,
        crate::media::Limits::CEILING.max_height as u64,
    ),
    flag("keep_file_names"),
    flag("forced_anon"),
    flag("poster_ids"),
    number("delete_window_secs", 0, 365 * 86_400),
    number("archive_days", 0, 3650),
    flag("show_in_recent"),
    // Each quote costs a row and a lookup when the post is written and deleted.
    number("max_quotes", 0, 1000),
    // A thread is read whole by the thread route; keep its size bounded.
    number("max_replies", 1, 100_000),
    text("rules", MAX_RULES_CHARS, Lines::Many, false),
    flag("nsfw"),
    flag("public_log_names"),
];

fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

fn error(kind: ErrorKind, field: &str, message: String) -> ApiError {
    ApiError::new(kind, message).with_field(field)
}

fn wrong_type(field: &str, expected: &str) -> ApiError {
    let message = format!("`{field}` must be {expected}.");
    error(ErrorKind::InvalidType, field, message)
}

/// Checks one setting's value and returns it as stored: text without its invisible characters,
/// file types as given. `video` says whether this server takes video.
pub fn check(setting: &Setting, value: &Value, video: bool) -> ApiResult<Value> {
    let field = setting.name;
    match setting.kind {
        Kind::Number { min, max } => {
            let Some(n) = value.as_u64() else {
                if value.as_i64().is_some() {
                    let message = format!("`{field}` is {value}; it must be from {min} to {max}.");
                    return Err(error(ErrorKind::OutOfRange, field, message));
                }
                return Err(wrong_type(field, "a whole number"));
            };
            if !(min..=max).contains(&n) {
                let message = format!("`{field}` is {n}; it must be from {min} to {max}.");
                return Err(error(ErrorKind::OutOfRange, field, message));
            }
            Ok(value.clone())
        }
        Kind::Flag => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => Err(wrong_type(field, "true or false")),
        },
        Kind::Text {
            max,
            lines,
            required,
        } => {
            let Some(raw) = value.as_str() else {
                return Err(wrong_type(field, "a string"));
            };
            let cleaned = normalize(raw, lines);
            check_text(field, &cleaned, max, lines)?;
            if required && blank(&cleaned) {
                let message = format!("`{field}` is empty (invisible characters do not count).");
                return Err(error(ErrorKind::Empty, field, message));
            }
            Ok(Value::String(cleaned))
        }
        Kind::FileTypes => {
            let Some(items) = value.as_array() else {
                return Err(wrong_type(field, "an array of file type names"));
            };
            let mut seen = Vec::new();
            for item in items {
                let Some(name) = item.as_str() else {
                    return Err(wrong_type(field, "an array of file type names"));
                };
                if !FILE_TYPES.contains(&name) {
                    let message = format!(
                        "`{field}` has `{}`; the types are {}.",
                        name.escape_debug(),
                        FILE_TYPES.join(", ")
                    );
                    return Err(error(ErrorKind::InvalidValue, field, message));
                }
                if !video && VIDEO_TYPES.contains(&name) {
                    let message =
                        format!("`{field}` has `{name}`, but this server does not take video.");
                    return Err(error(ErrorKind::InvalidValue, field, message));
                }
                if seen.contains(&name) {
                    let message = format!("`{field}` lists `{name}` twice.");
                    return Err(error(ErrorKind::InvalidValue, field, message));
                }
                seen.push(name);
            }
            Ok(value.clone())
        }
    }
}

/// Checks a slug for a new board: its form, and that no route of the server owns it.
pub fn check_slug(slug: &str) -> ApiResult<()> {
    if !valid_slug(slug) {
        let message = format!(
            "`slug` must be 1 to {MAX_SLUG_LEN} characters of a-z and 0-9, not `{}`.",
            slug.escape_debug()
        );
        return Err(error(ErrorKind::InvalidValue, "slug", message));
    }
    if RESERVED_SLUGS.contains(&slug) {
        let message = format!(
            "`{slug}` is reserved: /{slug}/ is one of the server's own paths (reserved: {}).",
            RESERVED_SLUGS.join(", ")
        );
        return Err(error(ErrorKind::InvalidValue, "slug", message));
    }
    Ok(())
}

/// Rules that tie settings together, checked on the board as a whole after any change.
fn check_together(board: &Board) -> ApiResult<()> {
    if board.max_file_bytes > board.max_post_bytes {
        let message = format!(
            "`max_file_bytes` ({}) is over `max_post_bytes` ({}): no file that large could be \
             posted.",
            board.max_file_bytes, board.max_post_bytes
        );
        return Err(error(ErrorKind::OutOfRange, "max_file_bytes", message));
    }
    if board.require_file && board.max_files == 0 {
        let message = "`require_file` needs `max_files` of at least 1.".to_owned();
        return Err(error(ErrorKind::InvalidValue, "require_file", message));
    }
    Ok(())
}

/// Checks a whole board: its slug, every setting, and the rules between them. The config's
/// boards go through here too, so a board is held to the same bounds wherever it comes from.
pub fn check_board(board: &Board, video: bool) -> ApiResult<()> {
    check_slug(&board.slug)?;
    let Value::Object(map) = serde_json::to_value(board).expect("boards serialize") else {
        unreachable!("a board serializes to an object");
    };
    for setting in SETTINGS {
        check(setting, &map[setting.name], video)?;
    }
    check_together(board)
}

/// What a change did: each changed setting's value before and after, for the log.
pub type Diff = Map<String, Value>;

/// Applies a partial change (`{"setting": value, ...}`) to `board`: every field must be a
/// setting and pass [`check`], and the result must hold together. Returns the new board and
/// what changed; a refused change names the field at fault.
pub fn apply(board: &Board, patch: &Map<String, Value>, video: bool) -> ApiResult<(Board, Diff)> {
    let Value::Object(mut current) = serde_json::to_value(board).expect("boards serialize") else {
        unreachable!("a board serializes to an object");
    };
    let mut diff = Map::new();
    for (name, value) in patch {
        let Some(setting) = setting(name) else {
            return Err(unknown(name));
        };
        let value = check(setting, value, video)?;
        if current[name.as_str()] != value {
            let old = current.insert(name.clone(), value.clone());
            diff.insert(
                name.clone(),
                serde_json::json!({ "old": old, "new": value }),
            );
        }
    }
    let changed: Board = serde_json::from_value(Value::Object(current))
        .map_err(|e| ApiError::internal("board_settings_roundtrip", e))?;
    check_together(&changed)?;
    Ok((changed, diff))
}

/// A field that is no setting.
pub fn unknown(name: &str) -> ApiError {
    let message = format!(
        "Unknown field `{}`; the settings are {}.",
        name.escape_debug(),
        SETTINGS
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    error(ErrorKind::UnknownField, name, message)
}

/// A new board from `{"slug", "title", ...settings}`: the settings not given take the defaults
/// of a `[[boards]]` table.
pub fn new_board(fields: &Map<String, Value>, video: bool) -> ApiResult<Board> {
    let slug = match fields.get("slug") {
        None | Some(Value::Null) => {
            let message = "A new board needs a `slug`.".to_owned();
            return Err(error(ErrorKind::MissingField, "slug", message));
        }
        Some(Value::String(slug)) => slug.clone(),
        Some(_) => return Err(wrong_type("slug", "a string")),
    };
    check_slug(&slug)?;
    if !fields.contains_key("title") {
        let message = "A new board needs a `title`.".to_owned();
        return Err(error(ErrorKind::MissingField, "title", message));
    }
    let mut patch = fields.clone();
    patch.remove("slug");
    let mut base = Board {
        slug,
        ..Board::default()
    };
    if !video {
        base.allowed_types
            .retain(|t| !VIDEO_TYPES.contains(&t.as_str()));
    }
    let (board, _) = apply(&base, &patch, video)?;
    Ok(board)
}

/// The settings of `board` as a log entry records a new board: everything but the rendered
/// rules.
pub fn snapshot(board: &Board) -> Map<String, Value> {
    let Value::Object(mut map) = serde_json::to_value(board).expect("boards serialize") else {
        unreachable!("a board serializes to an object");
    };
    map.remove("rules_html");
    map
}

#[cfg(test)]
mod tests;
