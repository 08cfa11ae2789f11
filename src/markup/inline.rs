//! The inline level of markup: one line cut into tokens (text, code, links, URLs, emphasis
//! delimiters), delimiters paired, then everything written out.

use std::fmt::Write;

use super::{Dialect, Out, Resolve, MAX_DEPTH};
use scan::{link, url, Ticks};

mod scan;

/// What a paired delimiter draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Em,
    Strong,
    Underline,
    Strike,
    Heading,
    Spoiler,
}

impl Kind {
    /// The kind a run of `len` copies of `byte` stands for; other runs are plain text.
    fn of(byte: u8, len: usize) -> Option<Kind> {
        match (byte, len) {
            (b'*', 1) => Some(Kind::Em),
            (b'*', 2) => Some(Kind::Strong),
            (b'_', 2) => Some(Kind::Underline),
            (b'~', 2) => Some(Kind::Strike),
            (b'=', 2) => Some(Kind::Heading),
            (b'|', 2) => Some(Kind::Spoiler),
            _ => None,
        }
    }

    /// The opening and closing tags in `dialect`; `None` where the dialect has no such markup
    /// (the markers then stay as typed).
    fn tags(self, dialect: Dialect) -> Option<(&'static str, &'static str)> {
        let four = matches!(dialect, Dialect::FourChan { .. });
        Some(match self {
            Kind::Em if four => ("<i>", "</i>"),
            Kind::Em => ("<em>", "</em>"),
            Kind::Strong if four => ("<b>", "</b>"),
            Kind::Strong => ("<strong>", "</strong>"),
            Kind::Underline => ("<u>", "</u>"),
            // 4chan's `<s>` is a spoiler; it has no strikethrough.
            Kind::Strike if four => return None,
            Kind::Strike => ("<s>", "</s>"),
            Kind::Heading => ("<span class=\"heading\">", "</span>"),
            Kind::Spoiler if four => ("<s>", "</s>"),
            Kind::Spoiler => ("<span class=\"spoiler\">", "</span>"),
        })
    }
}

/// A delimiter is literal until a closer pairs it with an opener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Literal,
    Open,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    Text(&'a str),
    Code(&'a str),
    Delim {
        kind: Kind,
        marker: &'a str,
        state: State,
    },
    /// `>>no` (board None: this board) or `>>>/board/no`; `text` is what the poster wrote.
    Post {
        board: Option<&'a str>,
        no: u64,
        text: &'a str,
    },
    Board {
        board: &'a str,
        text: &'a str,
    },
    Url(&'a str),
}

/// What a scanner found at a position.
enum Scan<'a> {
    /// A token ending at the given byte offset.
    Token(Token<'a>, usize),
    /// Plain text up to the given byte offset, not to be looked into again.
    Text(usize),
}

/// Renders one line (greentext or not) into `out`.
pub(super) fn render<R: Resolve>(line: &str, out: &mut Out<'_, R>) {
    for token in tokenize(line) {
        match token {
            Token::Text(text) => out.text(text),
            Token::Code(code) => {
                out.html.push_str("<code>");
                out.text(code);
                out.html.push_str("</code>");
            }
            Token::Delim {
                kind,
                marker,
                state,
            } => match (state, kind.tags(out.dialect)) {
                (State::Open, Some((open, _))) => out.html.push_str(open),
                (State::Close, Some((_, close))) => out.html.push_str(close),
                _ => out.text(marker),
            },
            Token::Post { board, no, text } => {
                let board = board.unwrap_or(out.board);
                let Some(thread) = out.post_thread(board, no) else {
                    out.text(text);
                    continue;
                };
                match (thread, out.dialect) {
                    (Some(target), Dialect::Native) => {
                        out.html.push_str("<a class=\"quotelink\" href=\"/");
                        out.text(&target.board);
                        let _ = write!(
                            out.html,
                            "/thread/{}#p{}\" data-board=\"",
                            target.thread, target.no
                        );
                        out.text(&target.board);
                        let _ = write!(out.html, "\" data-no=\"{}\">", target.no);
                        out.text(text);
                        out.html.push_str("</a>");
                    }
                    (Some(target), Dialect::FourChan { thread: here }) => {
                        out.html.push_str("<a href=\"");
                        if target.board != out.board || target.thread != here {
                            out.html.push('/');
                            out.text(&target.board);
                            let _ = write!(out.html, "/thread/{}", target.thread);
                        }
                        let _ = write!(out.html, "#p{}\" class=\"quotelink\">", target.no);
                        out.text(text);
                        out.html.push_str("</a>");
                    }
                    (None, _) => dead(text, out),
                }
            }
            Token::Board { board, text } => {
                let Some(exists) = out.board_exists(board) else {
                    out.text(text);
                    continue;
                };
                if exists {
                    let four = matches!(out.dialect, Dialect::FourChan { .. });
                    out.html.push_str(if four {
                        "<a href=\"/"
                    } else {
                        "<a class=\"boardlink\" href=\"/"
                    });
                    out.text(board);
                    out.html.push_str(if four {
                        "/\" class=\"quotelink\">"
                    } else {
                        "/\">"
                    });
                    out.text(text);
                    out.html.push_str("</a>");
                } else {
                    dead(text, out);
                }
            }
            // 4chan's clients make links of URLs themselves.
            Token::Url(url) if matches!(out.dialect, Dialect::FourChan { .. }) => out.text(url),
            Token::Url(url) => {
                out.html.push_str("<a href=\"");
                out.text(url);
                out.html
                    .push_str("\" rel=\"nofollow noopener noreferrer ugc\" target=\"_blank\">");
                out.text(url);
                out.html.push_str("</a>");
            }
        }
    }
}

/// Copies one line into `out`, each post link replaced by what `map` gives for its board and
/// number (the line's own board for `>>N`), or kept as typed when it gives nothing. Code spans
/// are copied as they are: what is not a link is never touched.
pub(super) fn rewrite(
    line: &str,
    board: &str,
    map: &impl Fn(&str, u64) -> Option<String>,
    out: &mut String,
) {
    let base = line.as_ptr() as usize;
    let mut copied = 0;
    for token in tokenize(line) {
        let Token::Post {
            board: to,
            no,
            text,
        } = token
        else {
            continue;
        };
        let Some(new) = map(to.unwrap_or(board), no) else {
            continue;
        };
        let start = text.as_ptr() as usize - base;
        out.push_str(&line[copied..start]);
        out.push_str(&new);
        copied = start + text.len();
    }
    out.push_str(&line[copied..]);
}

fn dead<R: Resolve>(text: &str, out: &mut Out<'_, R>) {
    out.html.push_str("<span class=\"deadlink\">");
    out.text(text);
    out.html.push_str("</span>");
}

/// Cuts a line into tokens in one forward pass, pairing delimiters as closers appear.
fn tokenize(line: &str) -> Vec<Token<'_>> {
    let bytes = line.as_bytes();
    let ticks = Ticks::new(line);
    let mut tokens = Vec::new();
    // Tentatively open delimiters, as indices into `tokens`; never deeper than MAX_DEPTH.
    let mut open: Vec<usize> = Vec::new();
    let mut text_from = 0;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let scan = match bytes[i] {
            b'`' => ticks.span(line, i),
            b'>' => link(line, i),
            b'h' | b'H' => url(line, i),
            b'*' | b'_' | b'~' | b'=' | b'|' => delimiter(line, i),
            _ => Scan::Text(i + 1),
        };
        let (token, end) = match scan {
            Scan::Token(token, end) => (token, end),
            Scan::Text(end) => {
                i = end;
                continue;
            }
        };
        if text_from < start {
            tokens.push(Token::Text(&line[text_from..start]));
        }
        text_from = end;
        i = end;
        let Token::Delim { kind, .. } = token else {
            tokens.push(token);
            continue;
        };
        let (can_open, can_close) = flanking(line, start, end);
        let at = tokens.len();
        tokens.push(token);
        if can_close {
            if let Some(k) = open
                .iter()
                .rposition(|&t| delim_kind(&tokens[t]) == Some(kind))
            {
                // Openers between the pair stay literal: that is what keeps the output nested.
                set_state(&mut tokens[open[k]], State::Open);
                set_state(&mut tokens[at], State::Close);
                open.truncate(k);
                continue;
            }
        }
        if can_open && open.len() < MAX_DEPTH {
            open.push(at);
        }
    }
    if text_from < bytes.len() {
        tokens.push(Token::Text(&line[text_from..]));
    }
    tokens
}

fn delim_kind(token: &Token<'_>) -> Option<Kind> {
    match token {
        Token::Delim { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn set_state(token: &mut Token<'_>, new: State) {
    if let Token::Delim { state, .. } = token {
        *state = new;
    }
}

/// Whether the delimiter at `line[start..end]` may open and may close.
fn flanking(line: &str, start: usize, end: usize) -> (bool, bool) {
    let before = line[..start].chars().next_back();
    let after = line[end..].chars().next();
    let can_open =
        after.is_some_and(|c| !c.is_whitespace()) && !before.is_some_and(char::is_alphanumeric);
    let can_close =
        before.is_some_and(|c| !c.is_whitespace()) && !after.is_some_and(char::is_alphanumeric);
    (can_open, can_close)
}

/// A run of one of the delimiter bytes at `i`.
fn delimiter(line: &str, i: usize) -> Scan<'_> {
    let byte = line.as_bytes()[i];
    let len = line.as_bytes()[i..]
        .iter()
        .take_while(|&&b| b == byte)
        .count();
    match Kind::of(byte, len) {
        Some(kind) => Scan::Token(
            Token::Delim {
                kind,
                marker: &line[i..i + len],
                state: State::Literal,
            },
            i + len,
        ),
        None => Scan::Text(i + len),
    }
}
