//! The scanners for the tokens that are not delimiters: links, URLs and code spans. Each looks
//! at one position and says what starts there; beyond what it consumes it reads only a bounded
//! window (or, for a URL, a tail of punctuation it gives back), so a line stays linear.

use std::collections::HashMap;

use super::{Scan, Token};
use crate::markup::clean::invisible;
use crate::markup::MAX_URL_BYTES;

/// `>>no`, `>>>/board/no` or `>>>/board/` at `i`.
pub(super) fn link(line: &str, i: usize) -> Scan<'_> {
    let rest = &line[i..];
    let digits_at = |from: usize| rest[from..].bytes().take_while(u8::is_ascii_digit).count();
    if let Some(after) = rest.strip_prefix(">>>/") {
        let slug = after
            .bytes()
            .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            .take(17)
            .count();
        if !(1..=16).contains(&slug) || after.as_bytes().get(slug) != Some(&b'/') {
            return Scan::Text(i + 1);
        }
        let board = &after[..slug];
        let head = 4 + slug + 1;
        let digits = digits_at(head);
        let end = i + head + digits;
        if digits == 0 {
            return Scan::Token(
                Token::Board {
                    board,
                    text: &line[i..end],
                },
                end,
            );
        }
        return match rest[head..head + digits].parse() {
            Ok(no) => Scan::Token(
                Token::Post {
                    board: Some(board),
                    no,
                    text: &line[i..end],
                },
                end,
            ),
            Err(_) => Scan::Text(end),
        };
    }
    let digits = if rest.starts_with(">>") {
        digits_at(2)
    } else {
        0
    };
    if digits == 0 {
        return Scan::Text(i + 1);
    }
    let end = i + 2 + digits;
    match rest[2..2 + digits].parse() {
        Ok(no) => Scan::Token(
            Token::Post {
                board: None,
                no,
                text: &line[i..end],
            },
            end,
        ),
        Err(_) => Scan::Text(end),
    }
}

/// An `http://` or `https://` URL at `i`.
pub(super) fn url(line: &str, i: usize) -> Scan<'_> {
    let rest = &line[i..];
    let has = |prefix: &str| {
        rest.len() >= prefix.len()
            && rest.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    let scheme = if has("https://") {
        8
    } else if has("http://") {
        7
    } else {
        return Scan::Text(i + 1);
    };
    let starts_word = line[..i]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    let host = rest[scheme..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric);
    if starts_word || !host {
        return Scan::Text(i + 1);
    }
    let len = rest
        .find(|c: char| {
            c.is_whitespace()
                || c.is_control()
                || invisible(c)
                || matches!(c, '<' | '>' | '"' | '`')
        })
        .unwrap_or(rest.len());
    let mut url = &rest[..len];
    // Counted once, so giving back a long tail of `)` stays linear.
    let count = |b: u8| url.bytes().filter(|&x| x == b).count();
    let mut parens = count(b')') as isize - count(b'(') as isize;
    let mut brackets = count(b']') as isize - count(b'[') as isize;
    while let Some(last) = url.bytes().last() {
        let give_back = match last {
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b'\'' | b'*' | b'_' | b'~' | b'|' | b'=' => {
                true
            }
            b')' if parens > 0 => {
                parens -= 1;
                true
            }
            b']' if brackets > 0 => {
                brackets -= 1;
                true
            }
            _ => false,
        };
        if !give_back {
            break;
        }
        url = &url[..url.len() - 1];
    }
    if url.len() > MAX_URL_BYTES {
        return Scan::Text(i + url.len());
    }
    Scan::Token(Token::Url(url), i + url.len())
}

/// The backtick runs of a line, so that finding each code span's closer costs O(1) and a line
/// full of unmatched backticks stays linear.
pub(super) struct Ticks {
    /// (start, length) of each maximal run.
    runs: Vec<(usize, usize)>,
    /// For each run, the index of the next run of the same length.
    next_same: Vec<Option<usize>>,
}

impl Ticks {
    pub(super) fn new(line: &str) -> Ticks {
        let bytes = line.as_bytes();
        let mut runs = Vec::new();
        let mut i = 0;
        while let Some(at) = bytes[i..].iter().position(|&b| b == b'`') {
            let start = i + at;
            let len = bytes[start..].iter().take_while(|&&b| b == b'`').count();
            runs.push((start, len));
            i = start + len;
        }
        let mut next_same = vec![None; runs.len()];
        let mut later: HashMap<usize, usize> = HashMap::new();
        for (r, &(_, len)) in runs.iter().enumerate().rev() {
            next_same[r] = later.insert(len, r);
        }
        Ticks { runs, next_same }
    }

    /// The code span opening at `i`, or the run as text when nothing closes it.
    pub(super) fn span<'a>(&self, line: &'a str, i: usize) -> Scan<'a> {
        let Ok(r) = self.runs.binary_search_by_key(&i, |&(start, _)| start) else {
            return Scan::Text(i + 1);
        };
        let len = self.runs[r].1;
        match self.next_same[r] {
            Some(c) => {
                let close = self.runs[c].0;
                Scan::Token(Token::Code(&line[i + len..close]), close + len)
            }
            None => Scan::Text(i + len),
        }
    }
}
