//! The line level of markup: code fences, greentext and pinktext, and the `<br>` between lines.

use super::{inline, Dialect, Out, Resolve};

/// Renders a cleaned body, line by line.
pub(super) fn render<R: Resolve>(body: &str, out: &mut Out<'_, R>) {
    let mut lines = body.split('\n');
    // Whether the last thing written was a text line, which the next one is separated from by
    // `<br>`; a code block is a break of its own.
    let mut after_text = false;
    while let Some(line) = lines.next() {
        if opens_fence(line) {
            // 4chan's code blocks break their lines with `<br>`, like the rest of `com`.
            let (open, newline, close) = match out.dialect {
                Dialect::Native => ("<pre><code>", "\n", "</code></pre>"),
                Dialect::FourChan { .. } => ("<pre class=\"prettyprint\">", "<br>", "</pre>"),
            };
            out.html.push_str(open);
            let mut first = true;
            for code in lines.by_ref() {
                if closes_fence(code) {
                    break;
                }
                if !first {
                    out.html.push_str(newline);
                }
                first = false;
                out.text(code);
            }
            out.html.push_str(close);
            after_text = false;
            continue;
        }
        if after_text {
            out.html.push_str("<br>");
        }
        after_text = true;
        let class = match (line_class(line), out.dialect) {
            (Some("greentext"), Dialect::FourChan { .. }) => Some("quote"),
            // 4chan has no pinktext.
            (Some(_), Dialect::FourChan { .. }) => None,
            (class, _) => class,
        };
        match class {
            Some(class) => {
                out.html.push_str("<span class=\"");
                out.html.push_str(class);
                out.html.push_str("\">");
                inline::render(line, out);
                out.html.push_str("</span>");
            }
            None => inline::render(line, out),
        }
    }
}

/// Rewrites the post links of a body as stored (see [`inline::rewrite`]), leaving code blocks
/// and everything else as typed.
pub(super) fn rewrite(
    body: &str,
    board: &str,
    map: &impl Fn(&str, u64) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(body.len() + 16);
    let mut in_code = false;
    for (i, line) in body.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if in_code {
            in_code = !closes_fence(line);
            out.push_str(line);
        } else if opens_fence(line) {
            in_code = true;
            out.push_str(line);
        } else {
            inline::rewrite(line, board, map, &mut out);
        }
    }
    out
}

/// ```` ``` ```` alone, or followed by one word naming a language, then optional spaces.
fn opens_fence(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("```") else {
        return false;
    };
    let rest = rest.trim_end_matches([' ', '\t']);
    !rest.contains(|c: char| c == '`' || c.is_whitespace())
}

fn closes_fence(line: &str) -> bool {
    line.trim_end_matches([' ', '\t']) == "```"
}

/// The span a whole line is wrapped in, if any. `>>1` and `>>>/b/` start links, not greentext.
fn line_class(line: &str) -> Option<&'static str> {
    let bytes = line.as_bytes();
    match bytes.first() {
        Some(b'<') => Some("pinktext"),
        Some(b'>') => {
            let link = bytes.starts_with(b">>>/")
                || (bytes.starts_with(b">>") && bytes.get(2).is_some_and(u8::is_ascii_digit));
            (!link).then_some("greentext")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences() {
        let cases = [
            ("```", true, true),
            ("```rust", true, false),
            ("```rust  ", true, false),
            ("``` ", true, true),
            ("```rust x", false, false),
            ("```x```", false, false),
            (" ```", false, false),
            ("````", false, false),
            ("``", false, false),
        ];
        for (line, opens, closes) in cases {
            assert_eq!(opens_fence(line), opens, "opens {line:?}");
            assert_eq!(closes_fence(line), closes, "closes {line:?}");
        }
    }

    #[test]
    fn line_classes() {
        let cases = [
            (">implying", Some("greentext")),
            (">", Some("greentext")),
            (">>", Some("greentext")),
            (">>a", Some("greentext")),
            (">>>", Some("greentext")),
            (">>>1", Some("greentext")),
            (">>1", None),
            (">>>/b/", None),
            (">>>/B/", None),
            ("<pink", Some("pinktext")),
            (" >not", None),
            ("plain", None),
            ("", None),
        ];
        for (line, class) in cases {
            assert_eq!(line_class(line), class, "{line:?}");
        }
    }
}
