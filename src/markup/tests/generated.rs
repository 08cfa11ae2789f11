//! Many generated bodies and a few huge pathological ones: always well formed, nothing lost,
//! and no input deep or long enough to overflow the stack or stall the writer.

use super::xss::assert_harmless;
use super::*;

/// The pieces generated bodies are made of: every marker, alone and in the combinations that
/// confuse parsers.
pub(super) const FRAGMENTS: &[&str] = &[
    "*",
    "**",
    "||",
    "`",
    "```",
    ">",
    ">>1",
    ">>2",
    ">>3",
    ">>>/b/",
    ">>>/a/5",
    "<",
    "&",
    "\"",
    "'",
    "http://a.b/",
    "https://c.d/x(y)",
    "\n",
    "\r\n",
    "\r",
    "==",
    "~~",
    "__",
    "_",
    "\u{202e}",
    "\u{200b}",
    "javascript:",
    " ",
    " ",
    "x",
    "yz",
    "(",
    ")",
    "```rust\n",
    "\u{0}",
    "日",
];

/// A fixed linear congruential generator (Knuth's MMIX constants): the same bodies every run,
/// with no randomness crate.
pub(super) struct Lcg(pub(super) u64);

impl Lcg {
    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

#[test]
fn generated_bodies() {
    let mut lcg = Lcg(0x5eed);
    let mut roundtrips = 0;
    for _ in 0..4000 {
        let pieces = 1 + lcg.below(40);
        let body: String = (0..pieces)
            .map(|_| FRAGMENTS[lcg.below(FRAGMENTS.len())])
            .collect();
        let html = html(&body);
        assert_harmless(&body, &html);
        // Code changes backtick counts and fences, so only code-free bodies must round-trip.
        if !body.contains('`') {
            assert_eq!(unrender(&html), cleaned(&body), "{body:?} -> {html:?}");
            roundtrips += 1;
        }
    }
    assert!(roundtrips > 1000, "only {roundtrips} bodies round-tripped");
}

/// Bodies of about 20 000 characters built to make a naive parser recurse or backtrack. The
/// test asserts what they render to; finishing at all is the point (no stack overflow, no
/// quadratic blow-up that would make the suite crawl).
#[test]
fn pathological_bodies() {
    let ticks: Vec<String> = (1..200).map(|n| "`".repeat(n)).collect();
    let literal = [
        "**a".repeat(6667),
        "a*".repeat(10000),
        "||x ".repeat(5000),
        "*".repeat(20000),
        "_".repeat(20000),
        ticks.join(" "),
        "\u{202e}".repeat(20000),
    ];
    for body in &literal {
        assert_eq!(html(body), cleaned(body), "{}…", &body[..20]);
    }

    let round_trip = [
        "*||".repeat(6667),
        "**__~~==||*".repeat(1800),
        "||x ".repeat(2500) + &"y|| ".repeat(2500),
        "*a ".repeat(3333) + &"b* ".repeat(3333),
        ">".repeat(20000) + "1",
        "http://a.b/".to_owned() + &")".repeat(20000),
        "(".repeat(10000) + "http://a.b/" + &")".repeat(10000),
        "&<>\"'".repeat(4000),
        "\n".repeat(20000),
    ];
    for body in &round_trip {
        assert_eq!(unrender(&html(body)), cleaned(body), "{}…", &body[..20]);
    }

    let count = |body: &str, needle: &str| html(body).matches(needle).count();
    assert_eq!(count(&">>".repeat(10000), "quotelink"), 0);
    assert_eq!(count(&(">>".repeat(10000) + "1"), "quotelink"), 1);
    assert_eq!(count(&">>1".repeat(6667), "quotelink"), 6667);
    assert_eq!(render_b(&">>1".repeat(6667)).quotes, [("b".to_owned(), 1)]);
    assert_eq!(count(&">>>/b/".repeat(3500), "boardlink"), 3500);
    assert_eq!(
        count(&("||x ".repeat(2500) + &"y|| ".repeat(2500)), "spoiler"),
        MAX_DEPTH
    );
    assert_eq!(count(&"\n".repeat(20000), "<br>"), 20000);
    assert_eq!(count(&"```\n".repeat(5000), "<pre>"), 2500);
    assert_eq!(count(&"`x` ".repeat(5000), "<code>"), 5000);
    assert_eq!(count(&"http://a.b/ ".repeat(1700), "<a "), 1700);
    assert_eq!(count(&"*x* ".repeat(5000), "<em>"), 5000);
}
