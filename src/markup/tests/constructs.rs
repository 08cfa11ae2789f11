//! Inline markup, lines, code: each construct, nested, misnested and left open.

use super::*;

#[test]
fn inline_markup() {
    table(&[
        ("plain text", "plain text"),
        ("**bold**", "<strong>bold</strong>"),
        ("*italic*", "<em>italic</em>"),
        ("__under__", "<u>under</u>"),
        ("~~strike~~", "<s>strike</s>"),
        ("==red==", "<span class=\"heading\">red</span>"),
        ("||spoiler||", "<span class=\"spoiler\">spoiler</span>"),
        ("a **b c** d", "a <strong>b c</strong> d"),
        ("(*x*)", "(<em>x</em>)"),
        ("*x*.", "<em>x</em>."),
        ("**x**y", "**x**y"),
        ("x**y**", "x**y**"),
        ("2*3*4", "2*3*4"),
        ("snake__case__name", "snake__case__name"),
        ("a * b * c", "a * b * c"),
        ("* x*", "* x*"),
        ("*x *", "*x *"),
        ("***x***", "***x***"),
        ("_x_", "_x_"),
        ("|||x|||", "|||x|||"),
        ("= x =", "= x ="),
        ("****", "****"),
        ("a == b", "a == b"),
    ]);
}

#[test]
fn nesting() {
    table(&[
        (
            "**bold *italic* bold**",
            "<strong>bold <em>italic</em> bold</strong>",
        ),
        (
            "||**x**||",
            "<span class=\"spoiler\"><strong>x</strong></span>",
        ),
        ("*a *b* c*", "<em>a <em>b</em> c</em>"),
        (
            "==__~~x~~__==",
            "<span class=\"heading\"><u><s>x</s></u></span>",
        ),
        // Misnested: the first closer wins, the opener it skips over is text.
        ("**a *b** c*", "<strong>a *b</strong> c*"),
        ("*a **b* c**", "<em>a **b</em> c**"),
        ("||a **b|| c**", "<span class=\"spoiler\">a **b</span> c**"),
    ]);
}

#[test]
fn depth_is_bounded() {
    let deep = "||x ".repeat(20) + &"y|| ".repeat(20);
    let got = html(deep.trim_end());
    assert_eq!(got.matches("<span class=\"spoiler\">").count(), MAX_DEPTH);
    assert_eq!(got.matches("</span>").count(), MAX_DEPTH);
}

#[test]
fn unclosed_and_across_lines() {
    table(&[
        ("**bold", "**bold"),
        ("*a", "*a"),
        ("||a", "||a"),
        ("a**", "a**"),
        ("**a\nb**", "**a<br>b**"),
        ("||a\nb||", "||a<br>b||"),
        ("`a\nb`", "`a<br>b`"),
        ("**a** **b", "<strong>a</strong> **b"),
    ]);
}

#[test]
fn lines() {
    table(&[
        ("a\nb", "a<br>b"),
        ("a\r\nb", "a<br>b"),
        ("a\rb", "a b"),
        ("a\n\nb", "a<br><br>b"),
        ("\n", "<br>"),
        ("  two  spaces\tand tab", "  two  spaces\tand tab"),
        (">implying", "<span class=\"greentext\">&gt;implying</span>"),
        ("<pink", "<span class=\"pinktext\">&lt;pink</span>"),
        ("a\n>b\nc", "a<br><span class=\"greentext\">&gt;b</span><br>c"),
        (" >not green", " &gt;not green"),
        (">>>not a link", "<span class=\"greentext\">&gt;&gt;&gt;not a link</span>"),
        (">**x**", "<span class=\"greentext\">&gt;<strong>x</strong></span>"),
        (
            ">look >>1 ||here||",
            "<span class=\"greentext\">&gt;look <a class=\"quotelink\" href=\"/b/thread/1#p1\" \
             data-board=\"b\" data-no=\"1\">&gt;&gt;1</a> <span class=\"spoiler\">here</span></span>",
        ),
        (
            ">>>2",
            "<span class=\"greentext\">&gt;<a class=\"quotelink\" href=\"/b/thread/1#p2\" \
             data-board=\"b\" data-no=\"2\">&gt;&gt;2</a></span>",
        ),
    ]);
}

#[test]
fn code() {
    table(&[
        ("`x`", "<code>x</code>"),
        ("`**x** >>1 <b>`", "<code>**x** &gt;&gt;1 &lt;b&gt;</code>"),
        ("``a ` b``", "<code>a ` b</code>"),
        ("`a`` b", "`a`` b"),
        ("*a `*` b*", "<em>a <code>*</code> b</em>"),
        ("`http://a.b/`", "<code>http://a.b/</code>"),
        ("```x```", "<code>x</code>"),
        (
            "```\n<script>alert(1)</script>\n>>1\n```",
            "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n&gt;&gt;1</code></pre>",
        ),
        (
            "```rust\nfn x() {}\n\n  y\n```",
            "<pre><code>fn x() {}\n\n  y</code></pre>",
        ),
        ("a\n```\n**x**\n```\nb", "a<pre><code>**x**</code></pre>b"),
        ("```\n```", "<pre><code></code></pre>"),
        (
            "```\nnever closed\n**x**",
            "<pre><code>never closed\n**x**</code></pre>",
        ),
        ("```\r\na\r\n```", "<pre><code>a</code></pre>"),
        (
            "```\na\n```\n```\nb\n```",
            "<pre><code>a</code></pre><pre><code>b</code></pre>",
        ),
        (" ```\nx", " ```<br>x"),
    ]);
}

#[test]
fn code_blocks_do_not_quote() {
    let rendered = render_b("```\n>>1\n>>>/a/5\n```\n`>>2`");
    assert!(rendered.quotes.is_empty(), "{:?}", rendered.quotes);
}

#[test]
fn cleaning() {
    table(&[
        ("a\u{0}b\u{7}c\u{1b}[31m", "abc[31m"),
        ("a\u{7f}\u{85}b", "ab"),
        ("\u{202e}evil\u{202c}", "evil"),
        ("\u{2066}x\u{2069}", "x"),
        (
            "\u{202e}>green",
            "<span class=\"greentext\">&gt;green</span>",
        ),
        ("zero\u{200b}width", "zero\u{200b}width"),
        ("日本語 **太字**", "日本語 <strong>太字</strong>"),
    ]);
}
