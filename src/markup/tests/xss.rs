//! Hostile bodies: whatever a poster types, the page gains no script, handler or foreign scheme.

use super::*;

pub(super) const CORPUS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "\"><svg onload=alert(1)>",
    "'><svg/onload=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "javascript:alert(1)",
    "jAvAsCrIpT:alert(1)",
    "java\tscript:alert(1)",
    "java\u{0}script:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "http://x\" onmouseover=\"alert(1)",
    "http://x' onmouseover='alert(1)",
    "http://x'><script>alert(1)</script>",
    "https://x/\"><img src=x onerror=alert(1)>",
    "http://x/?q=<script>",
    "http://x/%3Cscript%3Ealert(1)%3C/script%3E",
    "http://javascript:alert(1)",
    "http://x/#javascript:alert(1)",
    "https://x/data:text/html,<script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#x3C;script&#x3E;alert(1)&#x3C;/script&#x3E;",
    "&#60;script&#62;",
    "&amp;lt;",
    "[url=javascript:alert(1)]click[/url]",
    "[url]javascript:alert(1)[/url]",
    "[img]javascript:alert(1)[/img]",
    "[x](javascript:alert(1))",
    "[x](http://a.b/\"onclick=\"alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "**<script>**alert(1)**</script>**",
    "*<b*>x</b>",
    "||<img src=x ||onerror=alert(1)>",
    "`<script>`alert(1)`</script>`",
    "```\n<script>alert(1)</script>\n```",
    "```<script>\nx\n```",
    ">>1<script>alert(1)</script>",
    ">>>/b/<script>",
    ">>>/b/1\" onclick=\"alert(1)",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    "http://a.b/\u{202e}gpj.exe",
    "\u{202e}>>1\u{202d}",
    "http://a.b/\u{200b}javascript:alert(1)",
    "h\u{200b}ttp://a.b/",
    "ja\u{200b}vascript:alert(1)",
    "\u{feff}http://a.b/",
    "a\u{0}b<\u{0}script>",
    "line\r\n<script>\rx",
    "\u{1}\u{2}\u{3}\u{1b}[2J",
    "<style>body{display:none}</style>",
    "<div style=\"background:url(javascript:alert(1))\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<!-- <script> -->",
    "<![CDATA[<script>]]>",
    "\"'`<>&",
    "==<svg onload=alert(1)>==",
    "~~__**||<x>||**__~~",
];

#[test]
fn corpus() {
    for body in CORPUS {
        assert_harmless(body, &html(body));
    }
}

#[test]
fn long_and_pathological_corpus() {
    let long: Vec<String> = CORPUS.iter().map(|body| body.repeat(400)).collect();
    for body in &long {
        assert_harmless(body, &html(body));
    }
}

#[test]
fn entities_are_escaped_again() {
    table(&[
        ("&lt;script&gt;", "&amp;lt;script&amp;gt;"),
        ("&#x3C;script&#x3E;", "&amp;#x3C;script&amp;#x3E;"),
        ("&amp;", "&amp;amp;"),
        ("\"'", "&quot;&#39;"),
        ("a < b > c", "a &lt; b &gt; c"),
    ]);
}

#[test]
fn foreign_schemes_are_never_links() {
    for body in [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "file:///etc/passwd",
        "[x](javascript:alert(1))",
        "//evil.example/",
    ] {
        let got = html(body);
        assert!(!got.contains("<a"), "{body:?} became a link: {got}");
    }
}

/// The properties the corpus is about, checked without trusting [`check_well_formed`] alone.
pub(super) fn assert_harmless(body: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{body:?}: {html}");
    for tag in lower
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or_default())
    {
        let names = tag
            .split('"')
            .step_by(2)
            .flat_map(|part| part.split_whitespace());
        for name in names.filter_map(|n| n.strip_suffix('=')) {
            assert!(!name.starts_with("on"), "{body:?}: handler in <{tag}>");
        }
        for value in tag.split('"').skip(1).step_by(2) {
            let squashed: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect();
            // An http(s) URL may carry these words in its path or query, where they are inert;
            // anywhere else they may not appear at all.
            let http = squashed.starts_with("http://") || squashed.starts_with("https://");
            for scheme in ["javascript:", "data:", "vbscript:"] {
                assert!(
                    http || !squashed.contains(scheme),
                    "{body:?}: {scheme} in <{tag}>"
                );
            }
        }
        assert!(
            !tag.contains("style") && !tag.contains("src="),
            "{body:?}: <{tag}>"
        );
    }
    for c in ['\u{202e}', '\u{2066}', '\u{0}', '\u{1b}'] {
        assert!(!html.contains(c), "{body:?}: {c:?} reached the page");
    }
}
