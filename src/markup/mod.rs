//! Post markup: turns the text a poster typed into the only HTML a post may carry.
//!
//! A body is rendered once, when it is written; the stored `html` is served as is, so this module
//! is the one place that decides what a poster can make the page do. It is a small hand-written
//! parser (clean → split into lines and code fences → tokenise each line → render), never a
//! regex over HTML: everything the poster wrote leaves here escaped, and the only markup is what
//! [`render`] emits itself, from the tags in [`ALLOWED_TAGS`]. [`check_well_formed`] verifies
//! that claim on any output, for the tests and the fuzz target in `test/fuzz`.
//!
//! # Rules
//!
//! Cleaning, before anything is parsed (the body itself is stored untouched):
//! - `\r\n` is a line break; a lone `\r` becomes a space.
//! - C0 controls other than `\n` and `\t`, DEL and C1 controls are dropped, and so are the bidi
//!   embedding, override and isolate characters (U+202A–U+202E, U+2066–U+2069): dropped rather
//!   than wrapped, so that what is parsed (greentext, links) is exactly what is shown and nothing
//!   can reorder the page outside the post. Zero-width characters stay, but end a URL.
//!
//! Lines and blocks:
//! - A line that is exactly ```` ``` ````, optionally followed by one word (a language, ignored)
//!   and trailing spaces, opens a code block; a line that is exactly ```` ``` ```` (trailing
//!   spaces allowed) closes it; without one the block runs to the end of the post. Its lines are
//!   escaped verbatim and joined with `\n` inside `<pre><code>`.
//! - Other lines are joined with `<br>`; no `<br>` is put next to a code block, which breaks the
//!   line itself.
//! - A line starting with `>`, except `>>` followed by a digit and `>>>/`, is greentext; a line
//!   starting with `<` is pinktext. Inline markup applies inside both.
//!
//! Inline, within one line (nothing spans lines; an opener left open at the end of its line is
//! literal text):
//! - `` `code` ``: a run of n backticks opens, the next run of exactly n backticks on the line
//!   closes; the contents are literal. Without a closer the backticks are literal.
//! - `>>123` links to post 123 on this board, `>>>/b/123` to post 123 on board `b`, `>>>/b/` to
//!   board `b`. A slug is 1–16 of `a-z0-9`; the number is the whole run of digits and must fit
//!   a `u64`, else the whole thing is text. A link to a post or board that does not exist is a
//!   `deadlink` span. A link may sit anywhere, even inside a word. A body links at most
//!   [`Resolve::max_links`] distinct posts and boards (the board's `max_quotes`); a link to a
//!   further one stays plain text, so what one post costs to render, to store and to delete is
//!   bounded by the board's setting, not by how many numbers fit in the body.
//! - `http://` and `https://` (any case) start a URL when not preceded by a letter or digit and
//!   followed by a letter or digit. It runs until whitespace, a control, a zero-width character,
//!   `<`, `>`, `"` or a backtick; then trailing `.,;:!?'*_~|=` and unbalanced `)` or `]` are
//!   given back to the text. Longer than [`MAX_URL_BYTES`] it stays text. No other scheme is
//!   ever a link.
//! - Delimiters are runs of exactly: `*` (em), `**` (strong), `__` (u), `~~` (s), `==`
//!   (heading span), `||` (spoiler). Any other run length (`***`, `_`, `|||`) is literal. A run
//!   may open when followed by a non-space and not preceded by a letter or digit, and may close
//!   when preceded by a non-space and not followed by a letter or digit — so `2*3*4` and
//!   `snake__case__name` stay literal. A closer matches the nearest open delimiter of its kind;
//!   openers between them become literal, which keeps the output properly nested
//!   (`**a *b** c*` → `<strong>a *b</strong> c*`). At most [`MAX_DEPTH`] delimiters are open at
//!   once; deeper openers are literal. There are no backslash escapes.
//!
//! Nothing recurses and every step looks at a bounded window, so rendering is linear in the
//! length of the body whatever it contains.
//!
//! # The 4chan dialect
//!
//! [`render_dialect`] with [`Dialect::FourChan`] parses exactly the same way and writes the
//! HTML that clients of 4chan's read API expect in `com`: greentext is
//! `<span class="quote">`, pinktext is plain text, `**`/`*` are `<b>`/`<i>`, a spoiler is `<s>`
//! (so `~~strike~~` has no tag there and stays literal), a fenced block is
//! `<pre class="prettyprint">` with `<br>` between its lines, URLs are plain text (those clients
//! link them themselves), and a post link is `<a href="#p12" class="quotelink">` within the
//! thread or `<a href="/b/thread/10#p12" class="quotelink">` outside it; a board link is
//! `<a href="/b/" class="quotelink">`. Apostrophes are escaped as `&#039;`, as 4chan does.
//! [`check_dialect`] checks that vocabulary as strictly as [`check_well_formed`] checks the
//! native one.

mod block;
pub mod check;
mod clean;
mod inline;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

pub use check::{check_dialect, check_well_formed};

/// Every tag [`render`] can produce; [`check_well_formed`] refuses any other.
pub const ALLOWED_TAGS: &[&str] = &["a", "br", "code", "em", "pre", "s", "span", "strong", "u"];

/// Every tag the 4chan dialect can produce; [`check_dialect`] refuses any other.
pub const FOURCHAN_TAGS: &[&str] = &["a", "b", "br", "code", "i", "pre", "s", "span", "u"];

/// The HTML vocabulary a body is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// wani's own: what a post's `html` holds.
    Native,
    /// 4chan's `com` conventions, for a post in `thread` (links into it are `#p{no}`).
    FourChan { thread: u64 },
}

impl Dialect {
    /// How `'` is escaped: 4chan writes `&#039;`, and some of its clients decode only that form.
    fn apostrophe(self) -> &'static str {
        match self {
            Dialect::Native => "&#39;",
            Dialect::FourChan { .. } => "&#039;",
        }
    }
}

/// `text` escaped for HTML as `dialect` escapes it, with the characters bodies lose dropped:
/// for the plain-text fields that 4chan's API serves as HTML (`name`, `sub`, `filename`).
pub fn escape(text: &str, dialect: Dialect) -> String {
    let mut out = String::with_capacity(text.len());
    clean::escape(text, &mut out, dialect.apostrophe());
    out
}

/// The public mark of a post whose poster was banned for it, appended to its html (and, as
/// 4chan writes it, to its `com`).
pub fn banned_mark(message: &str, dialect: Dialect) -> String {
    let style = match dialect {
        Dialect::Native => "class=\"banned\"",
        Dialect::FourChan { .. } => "style=\"color: red;\"",
    };
    format!(
        "<br><br><strong {style}>{}</strong>",
        escape(message, dialect)
    )
}

/// What `html` is for a body with no markup at all: its text escaped, lines joined with `<br>`.
pub fn plain_html(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + body.len() / 8);
    for (i, line) in body.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        clean::escape(line, &mut out, Dialect::Native.apostrophe());
    }
    out
}

/// Whether `html`, rendered from `body`, says nothing the body does not: it is exactly
/// [`plain_html`] of a body that cleaning leaves untouched. A client then shows such a body as
/// text, a line break for each `\n`, and sees what `html` would show; that is why the API may
/// leave `html` out for it.
pub fn is_plain(body: &str, html: &str) -> bool {
    matches!(clean::clean(body), std::borrow::Cow::Borrowed(_))
        && html.len() >= body.len()
        && html == plain_html(body)
}

/// How many inline delimiters may be open at once; enough for any real post, and a bound on
/// how deep the output nests.
pub const MAX_DEPTH: usize = 8;

/// A longer URL is left as text: no real link is this long, and browsers and proxies start
/// refusing them around here.
pub const MAX_URL_BYTES: usize = 2048;

/// What [`render`] needs to know about the world to draw links.
pub trait Resolve {
    /// The thread of post `no` on `board`, or None when there is no such post (never posted, or deleted).
    fn post_thread(&self, board: &str, no: u64) -> Option<u64>;
    fn board_exists(&self, board: &str) -> bool;
    /// How many distinct posts and boards a body posted on `board` may link; links to more
    /// stay text and are not quotes.
    fn max_links(&self, board: &str) -> usize;
    /// Where post `no` of `board` lives since its thread moved to another board: a link to the
    /// old number then points at the new place. `None` for a post that never moved.
    fn moved(&self, _board: &str, _no: u64) -> Option<(String, u64)> {
        None
    }
}

/// A live post a link points at: where it lives now (a moved post's new board and number).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    board: String,
    no: u64,
    thread: u64,
}

/// Moves followed from a linked number to where the post lives now: a thread moved on again
/// is found through each of its old places, and a cycle costs no more than this.
const MAX_MOVES: usize = 8;

/// Where post `no` of `board` lives after its thread moved (maybe more than once), if it is
/// still live there.
fn moved_target(resolve: &impl Resolve, board: &str, no: u64) -> Option<Target> {
    let mut at = (board.to_owned(), no);
    for _ in 0..MAX_MOVES {
        let (board, no) = resolve.moved(&at.0, at.1)?;
        if let Some(thread) = resolve.post_thread(&board, no) {
            return Some(Target { board, no, thread });
        }
        at = (board, no);
    }
    None
}

/// A rendered body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    /// Every `(board, no)` the body links to with `>>` or `>>>`, live or dead, each once, in
    /// order of first appearance, never more than [`Resolve::max_links`]: what backlinks are
    /// built from. A link to a moved post names the post where it lives now.
    pub quotes: Vec<(String, u64)>,
}

/// Renders what a poster typed on `board` as safe HTML; see the module docs for the rules.
pub fn render(body: &str, board: &str, resolve: &impl Resolve) -> Rendered {
    render_dialect(body, board, resolve, Dialect::Native)
}

/// `body`, as typed on `board`, with each post link (`>>N`, `>>>/b/N`) replaced by the text
/// `map` returns for its board and number, when it returns one: what moving a thread does to
/// the links in its posts. Code is left alone; nothing else changes.
pub fn rewrite_quotes(
    body: &str,
    board: &str,
    map: impl Fn(&str, u64) -> Option<String>,
) -> String {
    block::rewrite(body, board, &map)
}

/// The start of every post link [`render`] writes, and of nothing else it writes.
const POST_LINK: &str = "<a class=\"quotelink\" href=\"/";

/// Whether `html`, as [`render`] wrote it, links to any post: when not, it has no link that a
/// deletion could have made dead, and serving it needs no lookup.
pub fn has_post_links(html: &str) -> bool {
    html.contains(POST_LINK)
}

/// `html`, as [`render`] wrote it, with every link to post `no` of `board` turned into the
/// dead link a new render would draw now that the post is gone; `None` when it links there
/// nowhere. This is how a post is served once a post it quotes is deleted (the stored html is
/// left as written), at the cost of one pass over its html: no parse of its body, no lookup of
/// its other links. It is exact because only [`render`] writes a `<a class="quotelink"` tag
/// (whatever a poster typed is escaped), a link's text holds no `<`, and a render would draw
/// every other link of the post as it stands (each link to a post deleted since is drawn dead
/// the same way when served; a moved thread's posts, and the posts quoting them, are rendered
/// anew when it moves).
pub fn kill_links(html: &str, board: &str, no: u64) -> Option<String> {
    const OPEN: &str = POST_LINK;
    let tail = format!("\" data-board=\"{board}\" data-no=\"{no}\">");
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(at) = html[from..].find(OPEN).map(|i| from + i) {
        // The opening tag ends at its first `>`: attribute values never hold one.
        let Some(tag_end) = html[at..].find('>').map(|i| at + i + 1) else {
            break;
        };
        from = tag_end;
        if !html[at..tag_end].ends_with(&tail) {
            continue;
        }
        let Some(text_end) = html[tag_end..].find("</a>").map(|i| tag_end + i) else {
            break;
        };
        out.push_str(&html[copied..at]);
        out.push_str("<span class=\"deadlink\">");
        out.push_str(&html[tag_end..text_end]);
        out.push_str("</span>");
        copied = text_end + "</a>".len();
        from = copied;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&html[copied..]);
    Some(out)
}

/// [`render`] in another HTML vocabulary: the same parse, other tags (see the module docs).
pub fn render_dialect(
    body: &str,
    board: &str,
    resolve: &impl Resolve,
    dialect: Dialect,
) -> Rendered {
    let body = clean::clean(body);
    let max_links = resolve.max_links(board);
    let mut out = Out {
        max_links,
        html: String::with_capacity(body.len() + body.len() / 4),
        dialect,
        board,
        resolve,
        quotes: Vec::new(),
        quoted: HashSet::new(),
        threads: HashMap::new(),
        boards: HashMap::new(),
    };
    block::render(&body, &mut out);
    Rendered {
        html: out.html,
        quotes: out.quotes,
    }
}

/// The output being built, and what has been asked of the resolver so far: a body repeating
/// one link thousands of times asks about it once.
struct Out<'a, R> {
    max_links: usize,
    html: String,
    dialect: Dialect,
    board: &'a str,
    resolve: &'a R,
    quotes: Vec<(String, u64)>,
    quoted: HashSet<(String, u64)>,
    threads: HashMap<(String, u64), Option<Target>>,
    boards: HashMap<String, bool>,
}

impl<R: Resolve> Out<'_, R> {
    fn text(&mut self, text: &str) {
        clean::escape(text, &mut self.html, self.dialect.apostrophe());
    }

    /// Whether one more distinct link target fits under the limit.
    fn room(&self) -> bool {
        self.quoted.len() + self.boards.len() < self.max_links
    }

    /// Records a link to `(board, no)` and returns where the post lives, if it does; `None`
    /// outside when the body already links as many targets as it may (the link is then text).
    fn post_thread(&mut self, board: &str, no: u64) -> Option<Option<Target>> {
        let key = (board.to_owned(), no);
        if !self.quoted.contains(&key) {
            if !self.room() {
                return None;
            }
            self.quoted.insert(key.clone());
            let resolve = self.resolve;
            let target = match resolve.post_thread(board, no) {
                Some(thread) => Some(Target {
                    board: board.to_owned(),
                    no,
                    thread,
                }),
                None => moved_target(resolve, board, no),
            };
            let quote = target
                .as_ref()
                .map_or_else(|| key.clone(), |t| (t.board.clone(), t.no));
            if !self.quotes.contains(&quote) {
                self.quotes.push(quote);
            }
            self.threads.insert(key.clone(), target);
        }
        Some(self.threads.get(&key).cloned().flatten())
    }

    /// Whether `board` exists; `None` when the body already links as many targets as it may.
    fn board_exists(&mut self, board: &str) -> Option<bool> {
        if !self.boards.contains_key(board) && !self.room() {
            return None;
        }
        let resolve = self.resolve;
        Some(
            *self
                .boards
                .entry(board.to_owned())
                .or_insert_with(|| resolve.board_exists(board)),
        )
    }
}
