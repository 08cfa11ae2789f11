//! Deep validation of JSON request bodies: known fields only, right types, clean text.

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult, ErrorKind};

/// The fields of a JSON object body, taken one by one with their type checked.
pub struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// Refuses any field not in `allowed`, naming it.
    pub fn new(map: Map<String, Value>, allowed: &[&str]) -> ApiResult<Fields> {
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            let message = format!(
                "Unknown field `{unknown}`; this route takes {}.",
                allowed.join(", ")
            );
            return Err(
                ApiError::new(ErrorKind::UnknownField, message).with_field(unknown.as_str())
            );
        }
        Ok(Fields { map })
    }

    /// An optional string; `null` counts as absent.
    pub fn text(&mut self, name: &str) -> ApiResult<Option<String>> {
        match self.map.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(name, "a string", &other)),
        }
    }

    /// An optional boolean; absent or `null` is false.
    pub fn flag(&mut self, name: &str) -> ApiResult<bool> {
        match self.map.remove(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(other) => Err(wrong_type(name, "true or false", &other)),
        }
    }
}

fn wrong_type(name: &str, expected: &str, got: &Value) -> ApiError {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let message = format!("`{name}` must be {expected}, not {got}.");
    ApiError::new(ErrorKind::InvalidType, message).with_field(name)
}

/// Whether text may hold line breaks and tabs (a body) or must be one line (a name, a subject).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Checks length in characters and refuses control characters (C0, DEL, C1), except line
/// breaks and tabs in multi-line text.
pub fn check_text(field: &str, text: &str, max_chars: u32, lines: Lines) -> ApiResult<()> {
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
    if let Some(c) = text.chars().find(|&c| c.is_control() && !allowed(c)) {
        let message = format!(
            "`{field}` holds the control character U+{:04X}, which is not allowed.",
            c as u32
        );
        return Err(ApiError::new(ErrorKind::ControlCharacters, message).with_field(field));
    }
    let chars = text.chars().count();
    if chars > max_chars as usize {
        let message = format!("`{field}` is {chars} characters long; the limit is {max_chars}.");
        return Err(ApiError::new(ErrorKind::TooLong, message).with_field(field));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        let cases: [(&str, Lines, u32, Option<ErrorKind>); 9] = [
            ("hello", Lines::One, 5, None),
            ("hello!", Lines::One, 5, Some(ErrorKind::TooLong)),
            ("ééééé", Lines::One, 5, None), // characters, not bytes
            ("a\nb", Lines::One, 9, Some(ErrorKind::ControlCharacters)),
            ("a\nb\r\n\tc", Lines::Many, 9, None),
            (
                "a\u{0}b",
                Lines::Many,
                9,
                Some(ErrorKind::ControlCharacters),
            ),
            (
                "a\u{7f}b",
                Lines::Many,
                9,
                Some(ErrorKind::ControlCharacters),
            ),
            (
                "a\u{85}b",
                Lines::Many,
                9,
                Some(ErrorKind::ControlCharacters),
            ),
            (
                "a\u{1b}[31m",
                Lines::Many,
                9,
                Some(ErrorKind::ControlCharacters),
            ),
        ];
        for (text, lines, max, expected) in cases {
            assert_eq!(
                check_text("f", text, max, lines).err().map(|e| e.kind),
                expected,
                "{text:?}"
            );
        }
    }
}
