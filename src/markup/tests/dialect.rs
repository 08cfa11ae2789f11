//! The 4chan dialect: the same parse as the native rendering, in the HTML 4chan's API clients
//! read from `com`.

use super::generated::{Lcg, FRAGMENTS};
use super::xss::{assert_harmless, CORPUS};
use super::*;

/// On /b/, in thread 1 (which holds posts 1 and 2).
const HERE: Dialect = Dialect::FourChan { thread: 1 };

fn four(body: &str) -> Rendered {
    let rendered = render_dialect(body, "b", &World, HERE);
    if let Err(e) = check_dialect(&rendered.html, HERE) {
        panic!("{body:?} rendered as {:?}: {e}", rendered.html);
    }
    rendered
}

#[test]
fn constructs() {
    let cases = [
        (">implying", "<span class=\"quote\">&gt;implying</span>"),
        ("<pink", "&lt;pink"),
        ("a\nb\n\nc", "a<br>b<br><br>c"),
        (">>2", "<a href=\"#p2\" class=\"quotelink\">&gt;&gt;2</a>"),
        (">>02", "<a href=\"#p2\" class=\"quotelink\">&gt;&gt;02</a>"),
        (">>>/b/1", "<a href=\"#p1\" class=\"quotelink\">&gt;&gt;&gt;/b/1</a>"),
        (
            ">>11",
            "<a href=\"/b/thread/10#p11\" class=\"quotelink\">&gt;&gt;11</a>",
        ),
        (
            ">>>/a/5",
            "<a href=\"/a/thread/3#p5\" class=\"quotelink\">&gt;&gt;&gt;/a/5</a>",
        ),
        (">>3", "<span class=\"deadlink\">&gt;&gt;3</span>"),
        (">>>/zz/", "<span class=\"deadlink\">&gt;&gt;&gt;/zz/</span>"),
        (
            ">>>/g/",
            "<a href=\"/g/\" class=\"quotelink\">&gt;&gt;&gt;/g/</a>",
        ),
        ("||secret||", "<s>secret</s>"),
        ("~~struck~~", "~~struck~~"),
        ("||~~x~~||", "<s>~~x~~</s>"),
        (
            "**b** *i* __u__ ==h==",
            "<b>b</b> <i>i</i> <u>u</u> <span class=\"heading\">h</span>",
        ),
        ("`x < y`", "<code>x &lt; y</code>"),
        (
            "```rust\nfn f() {}\n  'x'\n```\nafter",
            "<pre class=\"prettyprint\">fn f() {}<br>  &#039;x&#039;</pre>after",
        ),
        ("see https://a.b/?x=1&y=2", "see https://a.b/?x=1&amp;y=2"),
        ("it's \"q\" & <", "it&#039;s &quot;q&quot; &amp; &lt;"),
        (
            ">quote with >>2",
            "<span class=\"quote\">&gt;quote with <a href=\"#p2\" class=\"quotelink\">&gt;&gt;2</a></span>",
        ),
        ("bidi\u{202e}gone", "bidigone"),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|&(body, want)| {
            let got = four(body).html;
            (got != want).then(|| format!("{body:?}\n  want {want:?}\n  got  {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_post_in_another_thread_links_within_its_own() {
    let there = Dialect::FourChan { thread: 10 };
    let html = render_dialect(">>2 >>11", "b", &World, there).html;
    assert_eq!(
        html,
        "<a href=\"/b/thread/1#p2\" class=\"quotelink\">&gt;&gt;2</a> \
         <a href=\"#p11\" class=\"quotelink\">&gt;&gt;11</a>"
    );
}

#[test]
fn the_quotes_and_the_native_rendering_are_unchanged() {
    let body = ">>3 >>2 >>>/a/5 ||x|| ~~y~~ http://a.b/";
    assert_eq!(four(body).quotes, render_b(body).quotes);
    assert_eq!(
        render_dialect(body, "b", &World, Dialect::Native),
        render_b(body)
    );
}

#[test]
fn hostile_and_generated_bodies_stay_in_the_vocabulary() {
    for body in CORPUS {
        assert_harmless(body, &four(body).html);
        assert_harmless(body, &four(&body.repeat(50)).html);
    }
    let mut lcg = Lcg(0xf0c4);
    for _ in 0..4000 {
        let pieces = 1 + lcg.below(40);
        let body: String = (0..pieces)
            .map(|_| FRAGMENTS[lcg.below(FRAGMENTS.len())])
            .collect();
        assert_harmless(&body, &four(&body).html);
    }
}

#[test]
fn plain_fields_are_escaped_the_4chan_way() {
    assert_eq!(
        escape("Tom's <b>\"best\"</b> & co\u{202e}", HERE),
        "Tom&#039;s &lt;b&gt;&quot;best&quot;&lt;/b&gt; &amp; co"
    );
    assert_eq!(escape("it's", Dialect::Native), "it&#39;s");
}
