//! Deep validation of JSON request bodies: no duplicate keys, known fields only, right types,
//! clean text (no invisible or bidi characters, no look-alike tripcodes in names).

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

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

    /// An optional array of strings; `null` counts as absent. At most `max` items.
    pub fn strings(&mut self, name: &str, max: usize) -> ApiResult<Option<Vec<String>>> {
        let items = match self.map.remove(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(wrong_type(name, "an array of strings", &other)),
        };
        if items.len() > max {
            let message = format!("`{name}` holds more than {max} items.");
            return Err(ApiError::new(ErrorKind::TooLong, message).with_field(name));
        }
        items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                other => Err(wrong_type(name, "an array of strings", &other)),
            })
            .collect::<ApiResult<Vec<String>>>()
            .map(Some)
    }

    /// Whether the field is present and not `null`.
    pub fn has(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(|v| !v.is_null())
    }

    /// Whether the field is given at all, `null` included (`null` may mean "remove").
    pub fn present(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// A string that must be there.
    pub fn required_text(&mut self, name: &str) -> ApiResult<String> {
        self.text(name)?.ok_or_else(|| {
            ApiError::new(
                ErrorKind::MissingField,
                format!("The field `{name}` is needed."),
            )
            .with_field(name)
        })
    }

    /// An optional boolean; absent or `null` is false.
    /// An optional whole number of at least 0; `null` counts as absent.
    pub fn number(&mut self, name: &str) -> ApiResult<Option<u64>> {
        match self.map.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(other) => Err(wrong_type(name, "a whole number of at least 0", &other)),
        }
    }

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Parses a JSON document, refusing an object that gives one key twice (serde_json would keep
/// the last silently, so two parsers could read one request differently): 400
/// `duplicate_field` naming the key.
pub fn parse_json(text: &str) -> ApiResult<Value> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Strict {
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(key)) => {
            let message = format!("The field `{key}` is given more than once.");
            Err(ApiError::new(ErrorKind::DuplicateField, message).with_field(key))
        }
        (Err(e), None) => Err(ApiError::new(
            ErrorKind::InvalidJson,
            format!("The request body is not valid JSON: {e}."),
        )),
    }
}

/// Builds a [`Value`] like serde_json's own, but notes the first key an object repeats.
#[derive(Clone, Copy)]
struct Strict<'a> {
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let message = format!("duplicate field `{key}`");
                *self.duplicate.borrow_mut() = Some(key);
                return Err(A::Error::custom(message));
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Characters removed from every piece of user text that is stored (names, subjects, bodies,
/// file names): Unicode's Default_Ignorable_Code_Point set, which renders as nothing, and the
/// bidi marks, which reorder what follows. That is the bidi controls (U+061C, U+200E/200F,
/// U+202A–202E, U+2066–2069), the zero-width characters (U+200B–200D, U+2060–2064, U+FEFF),
/// the soft hyphen U+00AD, the combining grapheme joiner U+034F, the Hangul fillers (U+115F,
/// U+1160, U+3164, U+FFA0), the Khmer and Mongolian inherent vowels and selectors (U+17B4/17B5,
/// U+180B–180F), the deprecated format characters U+206A–206F, the musical and shorthand format
/// controls, and the unassigned ignorables. Kept: the variation selectors (U+FE00–FE0F,
/// U+E0100–E01EF) and the tag characters (U+E0020–E007F), which emoji need; text made of them
/// alone is still [`blank`].
pub fn ignorable(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff0}'..='\u{fff8}'
        | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e001f}'
        | '\u{e0080}'..='\u{e00ff}' | '\u{e01f0}'..='\u{e0fff}')
}

/// Removes the [`ignorable`] characters. The line and paragraph separators U+2028/2029 become
/// `\n` in multi-line text and are removed from one-line text, where no line may break.
pub fn normalize(text: &str, lines: Lines) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if ignorable(c) => {}
            '\u{2028}' | '\u{2029}' if lines == Lines::Many => out.push('\n'),
            '\u{2028}' | '\u{2029}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether text shows nothing: only whitespace, the blank Braille pattern U+2800, variation
/// selectors and tag characters (which modify a character and show nothing on their own).
pub fn blank(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_whitespace()
            || matches!(c, '\u{2800}' | '\u{fe00}'..='\u{fe0f}' | '\u{e0020}'..='\u{e007f}'
                | '\u{e0100}'..='\u{e01ef}')
    })
}

/// Refuses a name that holds what reads as a tripcode: an exclamation mark (or a look-alike of
/// one) followed by a letter, digit, `.`, `/`, `+` or `_`. Only `#secret` makes a trip, which
/// is shown apart from the name; a name must not be able to fake one.
pub fn check_name_trip(name: &str) -> ApiResult<()> {
    let mut after_bang = false;
    for c in name.chars() {
        if combining(c) {
            continue;
        }
        if after_bang
            && (c.is_alphanumeric()
                || matches!(
                    c,
                    '.' | '/' | '+' | '_' | '\u{ff0e}' | '\u{ff0f}' | '\u{ff0b}' | '\u{ff3f}'
                ))
        {
            let message = "A name cannot contain what looks like a tripcode (`!` followed by \
                letters or digits); for a tripcode, end the name with `#` and a secret.";
            return Err(ApiError::new(ErrorKind::TripcodeLookalike, message).with_field("name"));
        }
        after_bang = bang(c);
    }
    Ok(())
}

/// `!` and what NFKC folds to it or what is easily mistaken for it: the fullwidth and small
/// forms, `‼`, `⁈`, the Latin letter retroflex click `ǃ`, the emoji marks and the raised
/// modifier.
fn bang(c: char) -> bool {
    matches!(
        c,
        '!' | '\u{ff01}'
            | '\u{fe57}'
            | '\u{fe15}'
            | '\u{203c}'
            | '\u{2048}'
            | '\u{1c3}'
            | '\u{2757}'
            | '\u{2755}'
            | '\u{a71d}'
    )
}

/// Combining marks, which stack on the character before and would split `!` from what follows
/// without changing how it reads.
fn combining(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}'
        | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}')
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

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        // (document, Ok(shape) or Err(kind, field))
        type Expected<'a> = Result<&'a str, (ErrorKind, &'a str)>;
        let cases: [(&str, Expected); 8] = [
            (
                r#"{"a":1,"b":[1,2.5,"x",null,true]}"#,
                Ok(r#"{"a":1,"b":[1,2.5,"x",null,true]}"#),
            ),
            (r#"{"a":1,"a":1}"#, Err((ErrorKind::DuplicateField, "a"))),
            (
                r#"{"body":"x","password":"p","body":"y"}"#,
                Err((ErrorKind::DuplicateField, "body")),
            ),
            (
                r#"{"a":{"b":1,"b":2}}"#,
                Err((ErrorKind::DuplicateField, "b")),
            ),
            (
                r#"[{"c":1},{"c":1,"c":2}]"#,
                Err((ErrorKind::DuplicateField, "c")),
            ),
            (r#"{"a":1,"a":2}"#, Err((ErrorKind::DuplicateField, "a"))),
            (r#"{"a":1} x"#, Err((ErrorKind::InvalidJson, ""))),
            (r#"{"a":1"#, Err((ErrorKind::InvalidJson, ""))),
        ];
        for (text, expected) in cases {
            match (parse_json(text), expected) {
                (Ok(v), Ok(shape)) => assert_eq!(v.to_string(), shape, "{text}"),
                (Err(e), Err((kind, field))) => {
                    assert_eq!(e.kind, kind, "{text}");
                    assert_eq!(e.field.as_deref().unwrap_or(""), field, "{text}");
                }
                (got, _) => panic!("{text}: {got:?}"),
            }
        }
    }

    #[test]
    fn invisible_and_bidi_characters_are_removed() {
        let cases: [(&str, Lines, &str); 10] = [
            ("plain", Lines::One, "plain"),
            ("a\u{202e}b\u{202c}c", Lines::One, "abc"),
            ("\u{200e}\u{200f}\u{61c}x\u{2066}\u{2069}", Lines::One, "x"),
            ("\u{200b}\u{200c}\u{200d}\u{2060}\u{feff}", Lines::One, ""),
            ("\u{3164}\u{115f}\u{1160}\u{ffa0}", Lines::One, ""),
            ("soft\u{ad}hyphen", Lines::One, "softhyphen"),
            ("a\u{2028}b\u{2029}c", Lines::One, "abc"),
            ("a\u{2028}b\u{2029}c", Lines::Many, "a\nb\nc"),
            (
                "\u{2764}\u{fe0f} \u{1f3f4}\u{e0067}\u{e007f}",
                Lines::Many,
                "\u{2764}\u{fe0f} \u{1f3f4}\u{e0067}\u{e007f}",
            ),
            ("日本語 ñ é", Lines::Many, "日本語 ñ é"),
        ];
        for (text, lines, expected) in cases {
            assert_eq!(normalize(text, lines), expected, "{text:?}");
        }
        for (text, is_blank) in [
            ("", true),
            (" \u{3000}\u{2800}\u{fe0f}", true),
            ("\u{e0067}", true),
            ("a", false),
            ("\u{2764}\u{fe0f}", false),
        ] {
            assert_eq!(blank(text), is_blank, "{text:?}");
        }
    }

    #[test]
    fn tripcode_lookalikes_in_names() {
        let cases: [(&str, bool); 16] = [
            ("alice", true),
            ("Wow!!", true),
            ("hi! there", true),
            ("!", true),
            ("!?", true),
            ("Admin !!Ab3dE.fg_h", false),
            ("Admin !Ab3dEfgh", false),
            ("x!1", false),
            ("Admin \u{ff01}\u{ff01}abc", false),
            ("Admin \u{203c}abc", false),
            ("Admin \u{1c3}abc", false),
            ("Admin \u{fe57}abc", false),
            ("Admin !\u{301}abc", false),
            ("Admin !\u{ff21}bc", false),
            ("Admin !\u{410}bc", false),
            ("Admin !.xyz", false),
        ];
        for (name, ok) in cases {
            let result = check_name_trip(name);
            assert_eq!(result.is_ok(), ok, "{name:?}");
            if let Err(e) = result {
                assert_eq!(e.kind, ErrorKind::TripcodeLookalike);
                assert_eq!(e.field.as_deref(), Some("name"));
            }
        }
    }
}
