//! Turning what a poster wrote into safe HTML. For now: escaped text with `<br>` for newlines.

/// Escapes the five characters that matter in HTML text and attribute values.
pub fn escape_html(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A post body as HTML: every character escaped, each line break (`\n`, `\r\n` or `\r`) a `<br>`.
pub fn body_html(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + body.len() / 8);
    let normalized = body.replace("\r\n", "\n").replace('\r', "\n");
    for (i, line) in normalized.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        escape_html(line, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        let cases = [
            ("plain", "plain"),
            ("a\nb", "a<br>b"),
            ("a\r\nb\rc", "a<br>b<br>c"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("\" onmouseover='x'", "&quot; onmouseover=&#39;x&#39;"),
            ("&lt;", "&amp;lt;"),
            ("\n\n", "<br><br>"),
        ];
        for (input, expected) in cases {
            assert_eq!(body_html(input), expected, "{input:?}");
        }
    }
}
