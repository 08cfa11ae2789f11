//! The text filters match on: case folded, compatibility-normalized, with invisible and
//! combining characters gone, each character remembering where it came from in the original so
//! that a replacement rewrites the original text.

use std::ops::Range;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Text as filters see it, and the way back to the original.
pub struct Normalized {
    pub text: String,
    /// For each character of `text`, in order: its byte offset in `text` and the byte range of
    /// the original character it came from.
    origins: Vec<(usize, Range<usize>)>,
}

/// One original character's contribution: compatibility decomposition (full-width and styled
/// letters become plain ones, ligatures their letters), lower case, no combining marks (so
/// accents drop: "é" is "e"), then composed again (so Hangul stays syllables).
fn fold_char(c: char, out: &mut String) {
    if crate::input::ignorable(c) {
        return;
    }
    let bare: String = c
        .nfkd()
        .flat_map(char::to_lowercase)
        .filter(|d| !is_combining_mark(*d) && !crate::input::ignorable(*d))
        .collect();
    out.extend(bare.nfkc());
}

/// The normalized form of `text`; what a plain pattern is turned into too.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut out);
    }
    out
}

impl Normalized {
    pub fn new(original: &str) -> Normalized {
        let mut text = String::with_capacity(original.len());
        let mut origins = Vec::with_capacity(original.len());
        let mut piece = String::new();
        for (at, c) in original.char_indices() {
            piece.clear();
            fold_char(c, &mut piece);
            for n in piece.chars() {
                origins.push((text.len(), at..at + c.len_utf8()));
                text.push(n);
            }
        }
        Normalized { text, origins }
    }

    /// The original bytes behind `range` of the normalized text: from the start of the
    /// original character that gave its first character to the end of the one that gave its
    /// last.
    pub fn original(&self, range: Range<usize>) -> Option<Range<usize>> {
        if range.is_empty() {
            return None;
        }
        let first = self.origins.partition_point(|(at, _)| *at < range.start);
        let last = self.origins.partition_point(|(at, _)| *at < range.end);
        let start = self.origins.get(first)?.1.start;
        let end = self.origins.get(last.checked_sub(1)?)?.1.end;
        Some(start..end)
    }
}

/// `original` with every match of `regex` in its normalized form replaced by `with`. Matches
/// that fall on the same original character are merged.
pub fn replace(original: &str, regex: &regex::Regex, with: &str) -> Option<String> {
    let normalized = Normalized::new(original);
    let mut out = String::with_capacity(original.len());
    let mut copied = 0;
    let mut any = false;
    for found in regex.find_iter(&normalized.text) {
        let Some(range) = normalized.original(found.range()) else {
            continue;
        };
        if range.start < copied {
            // Overlaps the previous replacement (two matches in one expanded character).
            copied = copied.max(range.end);
            continue;
        }
        out.push_str(&original[copied..range.start]);
        out.push_str(with);
        copied = range.end;
        any = true;
    }
    if !any {
        return None;
    }
    out.push_str(&original[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        let cases: &[(&str, &str)] = &[
            ("Spam", "spam"),
            ("ＳＰＡＭ", "spam"),
            ("s\u{200b}pam", "spam"),
            ("s\u{feff}p\u{200d}am", "spam"),
            ("spa\u{301}m", "spam"),
            ("spám", "spam"),
            ("ﬁsh", "fish"),
            ("𝐬𝐩𝐚𝐦", "spam"),
            ("İstanbul", "istanbul"),
            ("STRASSE", "strasse"),
            ("한국어", "한국어"),
            ("", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(fold(text), *expected, "{text:?}");
            assert_eq!(Normalized::new(text).text, *expected, "{text:?}");
        }
    }

    #[test]
    fn replacing_rewrites_the_original() {
        let re = |p: &str| regex::Regex::new(p).unwrap();
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            ("buy SPAM now", "spam", "ham", Some("buy ham now")),
            ("ＳＰＡＭ!", "spam", "ham", Some("ham!")),
            ("s\u{200b}pam and spám", "spam", "x", Some("x and x")),
            ("nothing here", "spam", "x", None),
            ("ﬁsh", "fi", "x", Some("xsh")),
            // Two matches inside one ligature: the character goes once.
            ("ﬁ", "f|i", "x", Some("x")),
            ("aaa", "a", "bb", Some("bbbbbb")),
            ("x", "", "y", None),
        ];
        for (text, pattern, with, expected) in cases {
            assert_eq!(
                replace(text, &re(pattern), with).as_deref(),
                *expected,
                "{text:?} {pattern:?}"
            );
        }
    }
}
