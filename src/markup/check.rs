//! An independent strict reader of rendered markup, proving an output is one the renderer may make.
//!
//! It knows nothing of how [`super::render`] works, only what its output may contain, so a bug
//! in the renderer shows up here as a refusal rather than being repeated. The tests and the
//! fuzz target run every output through it.

use super::clean::dropped;
use super::{Dialect, ALLOWED_TAGS, FOURCHAN_TAGS};

const REL: &str = "nofollow noopener noreferrer ugc";

/// A tag's attributes, in order: `(name, value)`.
type Attributes<'a> = [(&'a str, &'a str)];

/// What one dialect's output may hold.
struct Vocabulary {
    tags: &'static [&'static str],
    span_classes: &'static [&'static str],
    /// Tags other than `span` and `a` that carry exactly one class, and which.
    classed: &'static [(&'static str, &'static str)],
    entities: &'static [&'static str],
    /// Checks an `<a>`'s attributes, in order.
    anchor: fn(&Attributes) -> Result<(), String>,
}

const NATIVE: Vocabulary = Vocabulary {
    tags: ALLOWED_TAGS,
    span_classes: &["greentext", "pinktext", "spoiler", "heading", "deadlink"],
    classed: &[],
    entities: &["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"],
    anchor,
};

const FOURCHAN: Vocabulary = Vocabulary {
    tags: FOURCHAN_TAGS,
    span_classes: &["quote", "heading", "deadlink"],
    classed: &[("pre", "prettyprint")],
    entities: &["&amp;", "&lt;", "&gt;", "&quot;", "&#039;"],
    anchor: fourchan_anchor,
};

/// Checks that `html` holds only [`ALLOWED_TAGS`] with their allowed attributes and classes,
/// closed in order, with double-quoted attribute values free of raw `<>"`, hrefs that are
/// site-relative paths or http(s) URLs, and no `&` outside the five entities the renderer
/// writes. Also refused: raw `>`, `"` or `'` in text, controls other than `\n` and `\t`, and
/// bidi embeddings, overrides and isolates. The error says what was wrong and where.
pub fn check_well_formed(html: &str) -> Result<(), String> {
    check(html, &NATIVE)
}

/// [`check_well_formed`] for a dialect's vocabulary. The 4chan one allows [`FOURCHAN_TAGS`],
/// spans of class `quote`, `heading` or `deadlink`, `<pre class="prettyprint">`, links of
/// exactly `href` then `class="quotelink"` to `#p{digits}` or a site-relative path, and
/// `&#039;` where the native vocabulary has `&#39;`.
pub fn check_dialect(html: &str, dialect: Dialect) -> Result<(), String> {
    match dialect {
        Dialect::Native => check(html, &NATIVE),
        Dialect::FourChan { .. } => check(html, &FOURCHAN),
    }
}

fn check(html: &str, vocabulary: &Vocabulary) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(c) = html[i..].chars().next() {
        match c {
            '<' => {
                let Some(len) = html[i..].find('>') else {
                    return Err(format!("unterminated tag at byte {i}"));
                };
                tag(&html[i + 1..i + len], &mut open, vocabulary)
                    .map_err(|e| format!("{e} at byte {i}"))?;
                i += len + 1;
            }
            '&' => {
                let entities = vocabulary.entities;
                let Some(entity) = entities.iter().find(|e| html[i..].starts_with(**e)) else {
                    return Err(format!("bare & at byte {i}"));
                };
                i += entity.len();
            }
            '>' | '"' | '\'' => return Err(format!("raw {c:?} in text at byte {i}")),
            c if c == '\r' || dropped(c) => {
                return Err(format!("forbidden character {c:?} at byte {i}"))
            }
            c => i += c.len_utf8(),
        }
    }
    match open.last() {
        Some(name) => Err(format!("<{name}> never closed")),
        None => Ok(()),
    }
}

/// One tag, without its angle brackets.
fn tag<'a>(inner: &'a str, open: &mut Vec<&'a str>, vocabulary: &Vocabulary) -> Result<(), String> {
    if let Some(name) = inner.strip_prefix('/') {
        return match open.pop() {
            Some(top) if top == name => Ok(()),
            Some(top) => Err(format!("</{name}> closes <{top}>")),
            None => Err(format!("</{name}> closes nothing")),
        };
    }
    let name_len = inner.find(' ').unwrap_or(inner.len());
    let name = &inner[..name_len];
    if !vocabulary.tags.contains(&name) {
        return Err(format!("tag <{name}> not allowed"));
    }
    let attrs = attributes(&inner[name_len..], vocabulary.entities)?;
    let only_class = |classes: &[&str]| matches!(attrs.as_slice(), [("class", class)] if classes.contains(class));
    let classed = vocabulary.classed.iter().find(|(tag, _)| *tag == name);
    match (name, classed) {
        ("span", _) if !only_class(vocabulary.span_classes) => {
            return Err(format!("span with {attrs:?}"));
        }
        ("span", _) => {}
        ("a", _) => (vocabulary.anchor)(&attrs)?,
        (_, Some((_, class))) if !only_class(&[*class]) => {
            return Err(format!("<{name}> with {attrs:?}"));
        }
        (_, Some(_)) => {}
        _ if !attrs.is_empty() => return Err(format!("<{name}> takes no attributes")),
        _ => {}
    }
    if name == "a" && open.contains(&"a") {
        return Err("a link inside a link".into());
    }
    if name != "br" {
        open.push(name);
    }
    Ok(())
}

/// A path on this site: never another host (`//x`, `/\\x`), never an entity that could hide one.
fn site_relative(href: &str) -> bool {
    href.starts_with('/') && !href.starts_with("//") && !href.contains('\\') && !href.contains("&#")
}

/// The three kinds of link the renderer makes, each with exactly its attributes.
fn anchor(attrs: &Attributes) -> Result<(), String> {
    let names: Vec<&str> = attrs.iter().map(|(n, _)| *n).collect();
    let get = |key: &str| attrs.iter().find(|(n, _)| *n == key).map(|(_, v)| *v);
    let href = get("href").unwrap_or_default();
    let relative = site_relative(href);
    match get("class") {
        Some("quotelink") => {
            let digits = |v: Option<&str>| {
                v.is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            };
            if names != ["class", "href", "data-board", "data-no"]
                || !relative
                || !digits(get("data-no"))
            {
                return Err(format!("bad quotelink {names:?} href={href:?}"));
            }
        }
        Some("boardlink") => {
            if names != ["class", "href"] || !relative {
                return Err(format!("bad boardlink {names:?} href={href:?}"));
            }
        }
        None => {
            let lower = href.get(..8).unwrap_or(href).to_ascii_lowercase();
            let http = lower.starts_with("http://") || lower.starts_with("https://");
            if names != ["href", "rel", "target"]
                || !http
                || get("rel") != Some(REL)
                || get("target") != Some("_blank")
            {
                return Err(format!("bad external link {names:?} href={href:?}"));
            }
        }
        Some(class) => return Err(format!("link class {class:?} not allowed")),
    }
    Ok(())
}

/// The 4chan dialect's one kind of link: `href` to a post in the thread (`#p12`) or a path on
/// this site, then `class="quotelink"`.
fn fourchan_anchor(attrs: &Attributes) -> Result<(), String> {
    let [("href", href), ("class", "quotelink")] = *attrs else {
        return Err(format!("bad link {attrs:?}"));
    };
    let in_thread = href
        .strip_prefix("#p")
        .is_some_and(|no| !no.is_empty() && no.bytes().all(|b| b.is_ascii_digit()));
    if !in_thread && !site_relative(href) {
        return Err(format!("bad quotelink href={href:?}"));
    }
    Ok(())
}

/// ` name="value"` pairs, names unique, values free of `<`, `>` and `&` outside `entities`.
fn attributes<'a>(mut rest: &'a str, entities: &[&str]) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    while !rest.is_empty() {
        let Some(after_space) = rest.strip_prefix(' ') else {
            return Err(format!("junk in tag: {rest:?}"));
        };
        let Some(eq) = after_space.find("=\"") else {
            return Err(format!("unquoted or valueless attribute: {after_space:?}"));
        };
        let name = &after_space[..eq];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
            return Err(format!("bad attribute name {name:?}"));
        }
        let value_and_rest = &after_space[eq + 2..];
        let Some(close) = value_and_rest.find('"') else {
            return Err(format!("unclosed value of {name}"));
        };
        let value = &value_and_rest[..close];
        if value.contains(['<', '>']) {
            return Err(format!("raw < or > in value of {name}"));
        }
        for (at, _) in value.match_indices('&') {
            if !entities.iter().any(|e| value[at..].starts_with(e)) {
                return Err(format!("bare & in value of {name}"));
            }
        }
        if attrs.iter().any(|(n, _)| *n == name) {
            return Err(format!("duplicate attribute {name}"));
        }
        attrs.push((name, value));
        rest = &value_and_rest[close + 1..];
    }
    Ok(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_renderer_writes() {
        let good = [
            "",
            "plain &amp; &lt;b&gt; &quot;q&quot; &#39;",
            "a<br>b\n\tc",
            "<strong><em>x</em></strong><u>u</u><s>s</s>",
            "<span class=\"greentext\">&gt;x</span><span class=\"spoiler\">s</span>",
            "<pre><code>x\ny</code></pre>",
            "<a class=\"quotelink\" href=\"/b/thread/1#p2\" data-board=\"b\" data-no=\"2\">&gt;&gt;2</a>",
            "<a class=\"boardlink\" href=\"/b/\">&gt;&gt;&gt;/b/</a>",
            "<a href=\"https://a.b/?x=1&amp;y=&#39;\" rel=\"nofollow noopener noreferrer ugc\" target=\"_blank\">u</a>",
        ];
        for html in good {
            assert_eq!(check_well_formed(html), Ok(()), "{html}");
        }
    }

    #[test]
    fn the_fourchan_vocabulary_is_its_own() {
        let four = Dialect::FourChan { thread: 1 };
        let good = [
            "<b><i>x</i></b><u>u</u><s>spoiler</s><code>c</code>",
            "<span class=\"quote\">&gt;x</span><span class=\"heading\">h</span>",
            "<span class=\"deadlink\">&gt;&gt;9</span>it&#039;s",
            "<pre class=\"prettyprint\">x<br>y</pre>",
            "<a href=\"#p2\" class=\"quotelink\">&gt;&gt;2</a>",
            "<a href=\"/b/thread/1#p2\" class=\"quotelink\">&gt;&gt;&gt;/b/2</a>",
            "<a href=\"/g/\" class=\"quotelink\">&gt;&gt;&gt;/g/</a>",
        ];
        for html in good {
            assert_eq!(check_dialect(html, four), Ok(()), "{html}");
            assert!(check_well_formed(html).is_err(), "native accepted {html}");
        }
        let bad = [
            "<em>x</em>",
            "<strong>x</strong>",
            "<span class=\"greentext\">&gt;x</span>",
            "<span class=\"spoiler\">x</span>",
            "<pre>x</pre>",
            "<pre class=\"other\">x</pre>",
            "<b class=\"quote\">x</b>",
            "it&#39;s",
            "<a class=\"quotelink\" href=\"#p2\">x</a>",
            "<a href=\"#p\" class=\"quotelink\">x</a>",
            "<a href=\"#p2x\" class=\"quotelink\">x</a>",
            "<a href=\"//evil.example/\" class=\"quotelink\">x</a>",
            "<a href=\"javascript:alert(1)\" class=\"quotelink\">x</a>",
            "<a href=\"https://a.b/\" class=\"quotelink\">x</a>",
            "<a href=\"/b/\" class=\"boardlink\">x</a>",
            "<a href=\"/b/\" class=\"quotelink\" onclick=\"x\">x</a>",
            "<a href=\"/b/\">x</a>",
            "<a href=\"https://a.b/\" rel=\"nofollow noopener noreferrer ugc\" target=\"_blank\">x</a>",
            "<script>",
            "a & b",
        ];
        for html in bad {
            assert!(check_dialect(html, four).is_err(), "accepted {html:?}");
        }
        assert_eq!(check_dialect("<em>x</em>", Dialect::Native), Ok(()));
    }

    #[test]
    fn refuses_anything_else() {
        let bad = [
            "<script>",
            "<b>x</b>",
            "<em>x",
            "x</em>",
            "<em><strong>x</em></strong>",
            "<br/>",
            "</br>",
            "<em >x</em>",
            "<span>x</span>",
            "<span class=\"evil\">x</span>",
            "<span class=\"spoiler\" onclick=\"x\">x</span>",
            "<span class=spoiler>x</span>",
            "<span class='spoiler'>x</span>",
            "<span class=\"spoiler\" class=\"spoiler\">x</span>",
            "<em onmouseover=\"alert(1)\">x</em>",
            "<a href=\"javascript:alert(1)\" rel=\"nofollow noopener noreferrer ugc\" target=\"_blank\">x</a>",
            "<a href=\"data:text/html,x\" rel=\"nofollow noopener noreferrer ugc\" target=\"_blank\">x</a>",
            "<a href=\"http://x\">no rel</a>",
            "<a class=\"boardlink\" href=\"//evil.com/\">x</a>",
            "<a class=\"boardlink\" href=\"/\\evil.com/\">x</a>",
            "<a class=\"boardlink\" href=\"http://evil.com/\">x</a>",
            "<a class=\"quotelink\" href=\"/b/thread/1#p2\" data-board=\"b\" data-no=\"x\">x</a>",
            "<a class=\"boardlink\" href=\"/a/\"><a class=\"boardlink\" href=\"/b/\">x</a></a>",
            "<a href=\"http://x\" rel=\"nofollow noopener noreferrer ugc\" target=\"_blank\" x=\"<\">y</a>",
            "a & b",
            "&amp",
            "&#x3C;",
            "a > b",
            "say \"hi\"",
            "it's",
            "<em",
            "nul\u{0}",
            "bidi\u{202e}",
            "cr\r",
        ];
        for html in bad {
            assert!(check_well_formed(html).is_err(), "accepted {html:?}");
        }
    }
}
