//! Reply links, cross-board links, board links and URLs, and the quotes a body records.

use super::*;

fn quote(board: &str, thread: u64, no: u64, text: &str) -> String {
    format!(
        "<a class=\"quotelink\" href=\"/{board}/thread/{thread}#p{no}\" data-board=\"{board}\" \
         data-no=\"{no}\">{text}</a>"
    )
}

fn dead(text: &str) -> String {
    format!("<span class=\"deadlink\">{text}</span>")
}

#[test]
fn post_links() {
    let cases = [
        (">>2", quote("b", 1, 2, "&gt;&gt;2")),
        (">>1", quote("b", 1, 1, "&gt;&gt;1")),
        (">>10", quote("b", 10, 10, "&gt;&gt;10")),
        (">>3", dead("&gt;&gt;3")),
        (">>0", dead("&gt;&gt;0")),
        (">>11abc", quote("b", 10, 11, "&gt;&gt;11") + "abc"),
        ("see>>2", "see".to_owned() + &quote("b", 1, 2, "&gt;&gt;2")),
        (">>02", quote("b", 1, 2, "&gt;&gt;02")),
        (">>99999999999999999999", "&gt;&gt;99999999999999999999".to_owned()),
        (">>18446744073709551615", dead("&gt;&gt;18446744073709551615")),
        (">> 2", "<span class=\"greentext\">&gt;&gt; 2</span>".to_owned()),
        (">>>/a/5", quote("a", 3, 5, "&gt;&gt;&gt;/a/5")),
        (">>>/b/2", quote("b", 1, 2, "&gt;&gt;&gt;/b/2")),
        (">>>/a/6", dead("&gt;&gt;&gt;/a/6")),
        (">>>/zz/5", dead("&gt;&gt;&gt;/zz/5")),
        (">>>/g/", "<a class=\"boardlink\" href=\"/g/\">&gt;&gt;&gt;/g/</a>".to_owned()),
        (">>>/g/x", "<a class=\"boardlink\" href=\"/g/\">&gt;&gt;&gt;/g/</a>x".to_owned()),
        (">>>/zz/", dead("&gt;&gt;&gt;/zz/")),
        (">>>/G/", "&gt;&gt;&gt;/G/".to_owned()),
        (">>>/g", "&gt;&gt;&gt;/g".to_owned()),
        (">>>//", "&gt;&gt;&gt;//".to_owned()),
        (">>>/abcdefghijklmnop/", dead("&gt;&gt;&gt;/abcdefghijklmnop/")),
        (">>>/abcdefghijklmnopq/", "&gt;&gt;&gt;/abcdefghijklmnopq/".to_owned()),
        (">>>/a/99999999999999999999", "&gt;&gt;&gt;/a/99999999999999999999".to_owned()),
        ("**>>2**", format!("<strong>{}</strong>", quote("b", 1, 2, "&gt;&gt;2"))),
        ("||>>>/g/||", "<span class=\"spoiler\"><a class=\"boardlink\" href=\"/g/\">&gt;&gt;&gt;/g/</a></span>".to_owned()),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(b, h)| (*b, h.as_str())).collect();
    table(&cases);
}

#[test]
fn quotes_are_recorded_once_in_order() {
    let rendered =
        render_b(">>3 >>2 >>>/a/5 >>3 >>>/b/3 >>>/g/ >>>/a/6 `>>7` >>99999999999999999999");
    let want = [("b", 3), ("b", 2), ("a", 5), ("a", 6)];
    let want: Vec<(String, u64)> = want.iter().map(|&(b, n)| (b.to_owned(), n)).collect();
    assert_eq!(rendered.quotes, want);
}

/// The test world with a board limit of [`LIMIT`] links.
struct Limited;

const LIMIT: usize = 4;

impl Resolve for Limited {
    fn post_thread(&self, board: &str, no: u64) -> Option<u64> {
        World.post_thread(board, no)
    }
    fn board_exists(&self, board: &str) -> bool {
        World.board_exists(board)
    }
    fn max_links(&self, _: &str) -> usize {
        LIMIT
    }
}

#[test]
fn links_beyond_the_limit_are_text() {
    // The limit counts distinct targets, posts and boards alike; a target already linked
    // stays a link however often it repeats.
    let q2 = quote("b", 1, 2, "&gt;&gt;2");
    let board_g = "<a class=\"boardlink\" href=\"/g/\">&gt;&gt;&gt;/g/</a>";
    let cases: Vec<(String, String)> = vec![
        (
            ">>1 >>2 >>3 >>10 >>11 >>>/a/5 >>2".into(),
            format!(
                "{} {q2} {} {} &gt;&gt;11 &gt;&gt;&gt;/a/5 {q2}",
                quote("b", 1, 1, "&gt;&gt;1"),
                dead("&gt;&gt;3"),
                quote("b", 10, 10, "&gt;&gt;10"),
            ),
        ),
        (
            ">>>/g/ >>2 >>3 >>10 >>11 >>>/b/ >>>/g/ >>2".into(),
            format!(
                "{board_g} {q2} {} {} &gt;&gt;11 &gt;&gt;&gt;/b/ {board_g} {q2}",
                dead("&gt;&gt;3"),
                quote("b", 10, 10, "&gt;&gt;10"),
            ),
        ),
    ];
    for (body, html) in &cases {
        let rendered = render(body, "b", &Limited);
        assert_eq!(&rendered.html, html, "{body}");
        assert!(rendered.quotes.len() <= LIMIT, "{body}");
    }
    // Past the limit nothing is recorded either: no backlink comes of a text link.
    let many: String = (1..=600).map(|n| format!(">>{n} ")).collect();
    let rendered = render(&many, "b", &Limited);
    assert_eq!(rendered.quotes.len(), LIMIT);
    assert_eq!(
        rendered.html.matches("<a ").count() + rendered.html.matches("deadlink").count(),
        LIMIT
    );
}

#[test]
fn resolver_is_asked_once_per_target() {
    use std::cell::Cell;
    struct Counting(Cell<u32>);
    impl Resolve for Counting {
        fn post_thread(&self, _: &str, no: u64) -> Option<u64> {
            self.0.set(self.0.get() + 1);
            Some(no)
        }
        fn board_exists(&self, _: &str) -> bool {
            self.0.set(self.0.get() + 1);
            true
        }
        fn max_links(&self, _: &str) -> usize {
            usize::MAX
        }
    }
    let counting = Counting(Cell::new(0));
    let body = ">>1 >>>/a/ ".repeat(1000);
    let rendered = render(&body, "b", &counting);
    assert_eq!(counting.0.get(), 2);
    assert_eq!(rendered.html.matches("quotelink").count(), 1000);
}

#[test]
fn urls() {
    let q = "&quot;";
    let cases = [
        ("http://a.b/", ext("http://a.b/")),
        ("https://a.b/x?y=1&z=2", ext("https://a.b/x?y=1&amp;z=2")),
        ("HTTPS://A.B/", ext("HTTPS://A.B/")),
        ("see http://a.b.", format!("see {}.", ext("http://a.b"))),
        ("http://a.b/x, and", format!("{}, and", ext("http://a.b/x"))),
        ("http://a.b/?!:;", ext("http://a.b/") + "?!:;"),
        ("(http://a.b/)", format!("({})", ext("http://a.b/"))),
        ("http://w.org/A_(b)", ext("http://w.org/A_(b)")),
        (
            "(http://w.org/A_(b))",
            format!("({})", ext("http://w.org/A_(b)")),
        ),
        ("http://a.b/it's", ext("http://a.b/it&#39;s")),
        ("'http://a.b/'", format!("&#39;{}&#39;", ext("http://a.b/"))),
        ("\"http://a.b/\"", format!("{q}{}{q}", ext("http://a.b/"))),
        (
            "x <http://a.b/>",
            format!("x &lt;{}&gt;", ext("http://a.b/")),
        ),
        (
            "**http://a.b/**",
            format!("<strong>{}</strong>", ext("http://a.b/")),
        ),
        (
            "||http://a.b||",
            format!("<span class=\"spoiler\">{}</span>", ext("http://a.b")),
        ),
        ("*http://a.b/*", format!("<em>{}</em>", ext("http://a.b/"))),
        (
            "http://a.b/x>>2",
            ext("http://a.b/x") + &quote("b", 1, 2, "&gt;&gt;2"),
        ),
        ("http://a.b/\u{200b}x", ext("http://a.b/") + "\u{200b}x"),
        ("http://a.b/\u{202e}x", ext("http://a.b/x")),
        ("http://a.b/`x`", ext("http://a.b/") + "<code>x</code>"),
        ("xhttp://a.b/", "xhttp://a.b/".to_owned()),
        ("http://", "http://".to_owned()),
        ("http:// a", "http:// a".to_owned()),
        ("http://-x", "http://-x".to_owned()),
        ("ftp://a.b/", "ftp://a.b/".to_owned()),
        ("https:/a.b", "https:/a.b".to_owned()),
        ("http://日本.jp/", ext("http://日本.jp/")),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(b, h)| (*b, h.as_str())).collect();
    table(&cases);
}

#[test]
fn long_urls_stay_text() {
    let fits = format!("http://a.b/{}", "x".repeat(MAX_URL_BYTES - 11));
    assert_eq!(html(&fits), ext(&fits));
    let long = format!("{fits}x");
    assert_eq!(html(&long), long);
    // Nothing inside an overlong URL is linked either.
    let nested = format!("{long}?u=http://c.d/");
    assert_eq!(html(&nested), nested);
}

/// The test world after post `gone` was deleted.
struct After {
    gone: (&'static str, u64),
}

impl Resolve for After {
    fn post_thread(&self, board: &str, no: u64) -> Option<u64> {
        if (board, no) == self.gone {
            return None;
        }
        World.post_thread(board, no)
    }

    fn board_exists(&self, board: &str) -> bool {
        World.board_exists(board)
    }

    fn max_links(&self, _: &str) -> usize {
        LIMIT
    }
}

/// Killing the links to a deleted post in the stored html gives exactly what rendering the
/// body again gives, whatever else the body holds; a body that never linked there is left.
#[test]
fn killing_links_to_a_deleted_post_is_a_render_without_it() {
    let cases: [(&str, (&'static str, u64)); 10] = [
        (">>2", ("b", 2)),
        (">>2 and >>2 again, >>>/b/2 too", ("b", 2)),
        (">>1 >>2 >>10 >>11", ("b", 10)),
        (">>>/a/5 >>5", ("a", 5)),
        (
            "**>>2** ||>>2|| `>>2`\n>>2 greentext\n```\n>>2\n```\n>>2",
            ("b", 2),
        ),
        (">>3 >>1 >>>/g/ >>2 >>10 >>11", ("b", 1)),
        (
            "https://example.com/>>2 <a class=\"quotelink\" href=\"/b/thread/1#p2\"> >>2",
            ("b", 2),
        ),
        (">>21 >>12 >>2", ("b", 2)),
        (">>>/a/5", ("b", 5)),
        ("no links at all", ("b", 2)),
    ];
    let mut failures = Vec::new();
    for (body, gone) in cases {
        let before = render(body, "b", &Limited).html;
        let want = render(body, "b", &After { gone }).html;
        let got = kill_links(&before, gone.0, gone.1);
        let changed = before != want;
        if got.as_deref() != changed.then_some(want.as_str()) {
            failures.push(format!(
                "{body:?} without {gone:?}\n  want {want:?}\n  got  {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
