//! Moved threads: a link to an old number leads to the post's new place (through more than one
//! move), and rewriting a moved post's links touches links only, never code or text.

use super::*;

/// [`World`], where /b/ 20 moved to /a/ 5, /b/ 21 moved to /g/ 9 and on to /a/ 5, and /b/ 30
/// and 31 moved to each other (a cycle of dead places).
struct Moved;

impl Resolve for Moved {
    fn post_thread(&self, board: &str, no: u64) -> Option<u64> {
        World.post_thread(board, no)
    }

    fn board_exists(&self, board: &str) -> bool {
        World.board_exists(board)
    }

    fn max_links(&self, _: &str) -> usize {
        usize::MAX
    }

    fn moved(&self, board: &str, no: u64) -> Option<(String, u64)> {
        match (board, no) {
            ("b", 20) => Some(("a".into(), 5)),
            ("b", 21) => Some(("g".into(), 9)),
            ("g", 9) => Some(("a".into(), 5)),
            ("b", 30) => Some(("b".into(), 31)),
            ("b", 31) => Some(("b".into(), 30)),
            _ => None,
        }
    }
}

#[test]
fn links_to_old_numbers_lead_to_the_new_place() {
    let link = |text: &str| {
        format!(
            "<a class=\"quotelink\" href=\"/a/thread/3#p5\" data-board=\"a\" data-no=\"5\">{text}</a>"
        )
    };
    let cases = [
        (">>20", link("&gt;&gt;20"), vec![("a", 5)]),
        (">>>/b/21", link("&gt;&gt;&gt;/b/21"), vec![("a", 5)]),
        (
            ">>30",
            "<span class=\"deadlink\">&gt;&gt;30</span>".to_owned(),
            vec![("b", 30)],
        ),
        (">>20 >>1", format!("{} <a class=\"quotelink\" href=\"/b/thread/1#p1\" data-board=\"b\" data-no=\"1\">&gt;&gt;1</a>", link("&gt;&gt;20")), vec![("a", 5), ("b", 1)]),
    ];
    for (body, want, quotes) in cases {
        let rendered = render(body, "b", &Moved);
        check_well_formed(&rendered.html).unwrap();
        assert_eq!(rendered.html, want, "{body}");
        let quotes: Vec<(String, u64)> =
            quotes.into_iter().map(|(b, n)| (b.to_owned(), n)).collect();
        assert_eq!(rendered.quotes, quotes, "{body}");
    }
    let four = render_dialect(">>20", "b", &Moved, Dialect::FourChan { thread: 1 }).html;
    assert_eq!(
        four,
        "<a href=\"/a/thread/3#p5\" class=\"quotelink\">&gt;&gt;20</a>"
    );
}

#[test]
fn rewriting_touches_post_links_only() {
    let map = |board: &str, no: u64| match (board, no) {
        ("b", 1) => Some(">>7".to_owned()),
        ("b", 2) => Some(">>>/b/2".to_owned()),
        _ => None,
    };
    let cases = [
        (">>1 and >>2", ">>7 and >>>/b/2"),
        (">>>/b/1 >>>/a/1 >>3", ">>7 >>>/a/1 >>3"),
        ("`>>1` >>1", "`>>1` >>7"),
        ("```\n>>1\n```\n>>1", "```\n>>1\n```\n>>7"),
        (
            ">greentext >>1\n\n>>>/b/ x>>1",
            ">greentext >>7\n\n>>>/b/ x>>7",
        ),
        ("no links at all", "no links at all"),
        (
            ">>11111111111111111111111 >>1",
            ">>11111111111111111111111 >>7",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(rewrite_quotes(body, "b", map), want, "{body:?}");
    }
}
