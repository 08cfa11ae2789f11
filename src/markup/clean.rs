//! Character-level hygiene: which characters never reach the page, and HTML escaping.

use std::borrow::Cow;

/// Characters dropped before parsing. Controls have no business on a page; the bidi
/// embeddings, overrides and isolates would reorder text outside the post they came from,
/// because nothing guarantees they are terminated inside it.
pub(super) fn dropped(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Invisible characters that may stay in text but must not hide inside a URL, where they would
/// make the shown link differ from the followed one.
pub(super) fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{ad}' | '\u{61c}'
    )
}

/// The body as it is parsed: `\r\n` → `\n`, a lone `\r` → space, [`dropped`] characters gone.
/// Borrows when there is nothing to change, which is almost always.
pub(super) fn clean(body: &str) -> Cow<'_, str> {
    if !body.chars().any(|c| c == '\r' || dropped(c)) {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push(' '),
            c if dropped(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escapes text for an HTML text node or a double-quoted attribute value. Drops what
/// [`clean`] drops as well, and `\r`, so output stays clean even for text that did not pass
/// through it (the board slug given by the caller). `'` is written as `apostrophe`, which the
/// dialect chooses (`&#39;` or `&#039;`).
pub(super) fn escape(text: &str, out: &mut String, apostrophe: &str) {
    let mut rest = text;
    while let Some(at) =
        rest.find(|c: char| matches!(c, '&' | '<' | '>' | '"' | '\'' | '\r') || dropped(c))
    {
        out.push_str(&rest[..at]);
        let c = rest[at..].chars().next().unwrap_or('\0');
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apostrophe),
            _ => {}
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
}
