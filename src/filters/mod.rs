//! Word filters: what staff may ask posts to be checked for, how a filter is validated and
//! compiled, and how a post's text is checked (rejected, or rewritten) before it is written.
//!
//! Filters are stored in redb (`filters` table) and compiled once into [`Compiled`], which
//! [`Live`] holds and swaps whole after every change. Patterns match on [`normalize::fold`]ed
//! text: a plain pattern is folded the same way and matched literally, a regex is matched
//! case-insensitively as written (so write it in lower case, unaccented). The `regex` crate
//! matches in time linear in the text; patterns and their compiled size are bounded here.

pub mod normalize;

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ErrorKind};

/// Longest pattern, in characters.
pub const MAX_PATTERN_CHARS: usize = 256;
/// Longest replacement text or rejection message, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// Most filters in one scope (all boards, or one board).
pub const MAX_FILTERS: usize = 200;
/// Compiled program size a regex may take, in bytes: enough for any sensible word list,
/// small enough that a thousand filters stay a few MiB and every match stays quick.
const MAX_COMPILED_BYTES: usize = 64 * 1024;

/// A post field a filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Subject,
    Body,
    FileName,
}

impl Field {
    pub const ALL: [Field; 4] = [Field::Name, Field::Subject, Field::Body, Field::FileName];

    pub fn name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Subject => "subject",
            Field::Body => "body",
            Field::FileName => "file_name",
        }
    }
}

/// What happens to a post a filter matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Every match, in the original text, becomes `replacement`.
    Replace { replacement: String },
    /// The post is refused (403 `post_filtered`) with `message`.
    Reject { message: String },
    /// The post is refused as with `Reject`, and its poster's network (an IPv4 address, an
    /// IPv6 /64) is banned for `ban_secs` on the filter's board (every board for a global
    /// filter), with `message` as the ban's public reason.
    RejectAndBan { message: String, ban_secs: u64 },
}

/// Shortest and longest ban a filter may give, in seconds (a minute; a year).
pub const BAN_SECS: std::ops::RangeInclusive<u64> = 60..=365 * 86_400;

/// A post a filter refused: what the poster is told and, for `reject_and_ban`, the ban to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub message: String,
    /// `(filter id, filter board, seconds)`.
    pub ban: Option<(u64, Option<String>, u64)>,
}

/// A stored filter, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub id: u64,
    /// The board it applies to; `None`: every board.
    pub board: Option<String>,
    pub pattern: String,
    /// `pattern` is a regular expression rather than plain text.
    pub regex: bool,
    #[serde(flatten)]
    pub action: Action,
    pub fields: Vec<Field>,
    /// Who created or last changed it.
    pub actor: String,
    pub updated_at: u64,
}

/// The matcher for one filter's pattern.
pub fn compile(pattern: &str, regex: bool) -> ApiResult<Regex> {
    let invalid =
        |message: String| ApiError::new(ErrorKind::InvalidPattern, message).with_field("pattern");
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(invalid(format!(
            "The pattern is longer than {MAX_PATTERN_CHARS} characters."
        )));
    }
    let source = if regex {
        pattern.to_owned()
    } else {
        let folded = normalize::fold(pattern);
        if folded.trim().is_empty() {
            return Err(invalid(
                "The pattern is empty once case, accents and invisible characters are set aside."
                    .into(),
            ));
        }
        regex::escape(&folded)
    };
    let compiled = RegexBuilder::new(&source)
        .case_insensitive(true)
        .size_limit(MAX_COMPILED_BYTES)
        .dfa_size_limit(MAX_COMPILED_BYTES * 4)
        .nest_limit(32)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => invalid(format!(
                "The regex compiles to more than {MAX_COMPILED_BYTES} bytes; make it simpler."
            )),
            // The parser's own description names the position and the problem, nothing else.
            e => invalid(format!(
                "The regex does not parse: {}",
                one_line(&e.to_string())
            )),
        })?;
    if compiled.is_match("") {
        return Err(invalid(
            "The pattern matches empty text, so it would match every post.".into(),
        ));
    }
    Ok(compiled)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A post's filterable text, as the post form gave it.
pub struct Texts<'a> {
    pub name: &'a mut String,
    pub subject: &'a mut Option<String>,
    pub body: &'a mut String,
    pub file_names: Vec<&'a mut Option<String>>,
}

/// A post refused by a filter.
pub fn rejected(message: &str) -> ApiError {
    ApiError::new(ErrorKind::PostFiltered, message.to_owned())
}

struct Rule {
    filter: Filter,
    regex: Regex,
}

/// Every filter, compiled: the global ones and each board's, in id order.
#[derive(Default)]
pub struct Compiled {
    global: Vec<Rule>,
    boards: HashMap<String, Vec<Rule>>,
}

impl Compiled {
    /// Compiles stored filters; one that no longer compiles (a stricter limit since) is left
    /// out and reported.
    pub fn new(filters: Vec<Filter>) -> Compiled {
        let mut compiled = Compiled::default();
        for filter in filters {
            let regex = match compile(&filter.pattern, filter.regex) {
                Ok(regex) => regex,
                Err(e) => {
                    crate::notify::notify(
                        crate::notify::Severity::Warning,
                        "filter_skipped",
                        format_args!("filter {} does not compile: {}", filter.id, e.message),
                    );
                    continue;
                }
            };
            let rule = Rule { filter, regex };
            match &rule.filter.board {
                None => compiled.global.push(rule),
                Some(board) => compiled.boards.entry(board.clone()).or_default().push(rule),
            }
        }
        compiled
    }

    fn rules<'a>(&'a self, board: &str) -> impl Iterator<Item = &'a Rule> {
        self.global
            .iter()
            .chain(self.boards.get(board).into_iter().flatten())
    }

    /// Checks a post's text on `board`: the first rejecting filter that matches refuses it;
    /// otherwise every replacing filter that matches rewrites its fields, in id order, global
    /// filters first. Returns whether anything was rewritten.
    pub fn apply(&self, board: &str, texts: &mut Texts) -> Result<bool, Rejected> {
        let mut folded = Folded::default();
        for rule in self.rules(board) {
            let (message, ban) = match &rule.filter.action {
                Action::Replace { .. } => continue,
                Action::Reject { message } => (message, None),
                Action::RejectAndBan { message, ban_secs } => (
                    message,
                    Some((rule.filter.id, rule.filter.board.clone(), *ban_secs)),
                ),
            };
            let hit =
                (rule.filter.fields.iter()).any(|field| folded.matches(texts, *field, &rule.regex));
            if hit {
                return Err(Rejected {
                    message: message.clone(),
                    ban,
                });
            }
        }
        let mut changed = false;
        for rule in self.rules(board) {
            let Action::Replace { replacement } = &rule.filter.action else {
                continue;
            };
            for field in &rule.filter.fields {
                if !folded.matches(texts, *field, &rule.regex) {
                    continue;
                }
                each_mut(texts, *field, |text| {
                    if let Some(new) = normalize::replace(text, &rule.regex, replacement) {
                        *text = new;
                        changed = true;
                    }
                });
                folded = Folded::default();
            }
        }
        Ok(changed)
    }

    /// How many filters apply on `board`.
    pub fn count(&self, board: &str) -> usize {
        self.rules(board).count()
    }
}

/// The folded text of each field, made when the first filter looking at that field needs it
/// and again only after a replacement changed a field: with 100 filters a post costs 100 regex
/// scans, not 100 normalizations of each field (which made posting 20 times slower in
/// test/bench/moderation.sh), and with no filter (or none on a field) it costs no folding at
/// all (folding was a quarter of a post's instructions when no filter existed).
#[derive(Default)]
struct Folded {
    name: OnceCell<String>,
    subject: OnceCell<Option<String>>,
    body: OnceCell<String>,
    file_names: OnceCell<Vec<Option<String>>>,
}

impl Folded {
    /// Whether `regex` matches the folded text of `field` (any file name, for file names).
    fn matches(&self, texts: &Texts, field: Field, regex: &Regex) -> bool {
        let found = |text: Option<&str>| text.is_some_and(|t| regex.is_match(t));
        match field {
            Field::Name => found(Some(self.name.get_or_init(|| normalize::fold(texts.name)))),
            Field::Subject => found(
                self.subject
                    .get_or_init(|| texts.subject.as_deref().map(normalize::fold))
                    .as_deref(),
            ),
            Field::Body => found(Some(self.body.get_or_init(|| normalize::fold(texts.body)))),
            Field::FileName => self
                .file_names
                .get_or_init(|| {
                    (texts.file_names.iter())
                        .map(|name| name.as_deref().map(normalize::fold))
                        .collect()
                })
                .iter()
                .any(|n| found(n.as_deref())),
        }
    }
}

fn each_mut(texts: &mut Texts, field: Field, mut change: impl FnMut(&mut String)) {
    match field {
        Field::Name => change(texts.name),
        Field::Subject => {
            if let Some(subject) = texts.subject.as_mut() {
                change(subject);
            }
        }
        Field::Body => change(texts.body),
        Field::FileName => {
            for name in texts.file_names.iter_mut() {
                if let Some(name) = name.as_mut() {
                    change(name);
                }
            }
        }
    }
}

/// The compiled filters in use, swapped whole after each change.
#[derive(Default)]
pub struct Live {
    current: RwLock<Arc<Compiled>>,
    /// Held while a new set is read and compiled, so a slower rebuild that read older rows
    /// never replaces a newer one.
    rebuilding: tokio::sync::Mutex<()>,
}

impl Live {
    pub fn current(&self) -> Arc<Compiled> {
        self.current.read().expect("filters lock").clone()
    }

    pub async fn rebuilding(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.rebuilding.lock().await
    }

    pub fn set(&self, compiled: Compiled) {
        *self.current.write().expect("filters lock") = Arc::new(compiled);
    }
}

#[cfg(test)]
mod tests;
