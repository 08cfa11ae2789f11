//! What a reader would notice: markup drawn wrongly, links pointing nowhere, or a post that
//! escapes its box. Every rendering here is also run through [`check_well_formed`].

use super::*;

mod constructs;
mod dialect;
mod generated;
mod links;
mod moves;
mod xss;

/// Boards `a`, `b` and `g` exist. On `b`, thread 1 holds posts 1 and 2 and thread 10 holds 10
/// and 11; on `a`, thread 3 holds post 5.
struct World;

impl Resolve for World {
    fn post_thread(&self, board: &str, no: u64) -> Option<u64> {
        match (board, no) {
            ("b", 1 | 2) => Some(1),
            ("b", 10 | 11) => Some(10),
            ("a", 5) => Some(3),
            _ => None,
        }
    }

    fn board_exists(&self, board: &str) -> bool {
        matches!(board, "a" | "b" | "g")
    }

    fn max_links(&self, _: &str) -> usize {
        usize::MAX
    }
}

/// Renders `body` as posted on /b/, insisting the output is well formed.
fn render_b(body: &str) -> Rendered {
    let rendered = render(body, "b", &World);
    if let Err(e) = check_well_formed(&rendered.html) {
        panic!("{body:?} rendered as {:?}: {e}", rendered.html);
    }
    rendered
}

fn html(body: &str) -> String {
    render_b(body).html
}

/// Checks a table of `(body, expected html)`, reporting every mismatch at once.
fn table(cases: &[(&str, &str)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|&(body, want)| {
            let got = html(body);
            (got != want).then(|| format!("{body:?}\n  want {want:?}\n  got  {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const EXT: &str = "rel=\"nofollow noopener noreferrer ugc\" target=\"_blank\"";

/// The external link the renderer makes for `url`, already escaped.
fn ext(url: &str) -> String {
    format!("<a href=\"{url}\" {EXT}>{url}</a>")
}

/// The body a rendering shows, with each tag turned back into the marker that made it; for
/// bodies without code, equal to the cleaned body exactly when no character was lost or
/// invented.
fn unrender(html: &str) -> String {
    let mut out = String::new();
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let end = rest.find('>').expect("tags are closed");
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            if tag.starts_with('/') {
                out.push_str(open.pop().expect("closing tags match"));
                continue;
            }
            let marker = match tag {
                "br" => {
                    out.push('\n');
                    continue;
                }
                "em" => "*",
                "strong" => "**",
                "u" => "__",
                "s" => "~~",
                t if t.contains("\"heading\"") => "==",
                t if t.contains("\"spoiler\"") => "||",
                _ => "",
            };
            out.push_str(marker);
            open.push(marker);
        } else if c == '&' {
            let end = rest.find(';').expect("entities end");
            out.push(match &rest[..=end] {
                "&amp;" => '&',
                "&lt;" => '<',
                "&gt;" => '>',
                "&quot;" => '"',
                "&#39;" => '\'',
                other => panic!("unexpected entity {other}"),
            });
            rest = &rest[end + 1..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// What [`unrender`] should give back for `body`.
fn cleaned(body: &str) -> String {
    clean::clean(body).into_owned()
}

#[test]
fn plain_bodies_are_recognised_and_only_they() {
    let cases = [
        ("", true),
        ("hello", true),
        ("two\nlines", true),
        ("blank\n\nline", true),
        ("a < b & c > d \"q\" it's", true),
        ("  spaced  \n\tindented", true),
        ("no markup: 2*3*4 and snake__case", true),
        (">greentext", false),
        ("<pinktext", false),
        ("**bold**", false),
        ("see >>1", false),
        ("https://example.com/", false),
        ("```\ncode\n```", false),
        // Cleaning changes these, so the body as text would differ from the html.
        ("line\r\nbreak", false),
        ("bidi \u{202e}override", false),
        ("bell \u{7}", false),
    ];
    for (body, plain) in cases {
        let html = render(body, "b", &World).html;
        assert_eq!(is_plain(body, &html), plain, "{body:?} → {html:?}");
        if plain {
            assert_eq!(html, plain_html(body), "{body:?}");
        }
    }
    assert!(!is_plain("a", "b"));
}
