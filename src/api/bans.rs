//! Bans: staff give, list and lift them and answer appeals; a banned poster learns why and
//! appeals once; posting checks the in-memory index ([`refuse_banned`]).

use std::net::IpAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::Request;
use serde_json::{json, Map, Value};

use crate::app::App;
use crate::auth::{Caller, Role};
use crate::bans::{valid_cloak, Ban, Net, Target, DEFAULT_MARK};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{json_object, query, query_number};
use crate::http::{response, Response};
use crate::input::{blank, check_text, Fields, Lines};
use crate::model::BoardPost;
use crate::storage::writer::{unix_now, ReportAction};
use crate::storage::{BanWrite, Write, Written};

/// Longest public reason, private note, appeal and answer, in characters.
pub const MAX_REASON_CHARS: u32 = 500;
pub const MAX_NOTE_CHARS: u32 = 2000;
pub const MAX_APPEAL_CHARS: u32 = 2000;
/// Longest custom public mark on a post.
pub const MAX_MARK_CHARS: u32 = 200;
/// Longest ban, in seconds (ten years); longer is `"permanent"`.
pub const MAX_DURATION_SECS: u64 = 10 * 365 * 86_400;
/// Bans in one listing, at most, and by default.
const MAX_LIMIT: u64 = 100;
const DEFAULT_LIMIT: u64 = 50;

/// Refuses a post from a banned client with 403 `banned`, naming the ban, its board, reason
/// and expiry. Called before the body is read: a banned poster's files are never decoded.
pub fn refuse_banned(app: &App, board: &str, client: IpAddr) -> ApiResult<()> {
    if app.bans.is_empty() {
        return Ok(());
    }
    let Some(ban) = app.bans.check(&app.keys, board, client, unix_now()) else {
        return Ok(());
    };
    let scope = match &ban.board {
        Some(b) => format!("/{b}/"),
        None => "every board".to_owned(),
    };
    let until = match ban.expires_at {
        Some(at) => format!("until {at} (Unix time)"),
        None => "permanently".to_owned(),
    };
    let message = format!(
        "You are banned from posting on {scope} {until} (ban {}): {}",
        ban.id, ban.reason
    );
    Err(ApiError::new(ErrorKind::Banned, message).with_ban(ban.poster_json()))
}

/// Admins, global moderators and board moderators; never janitors or users.
fn require_staff(caller: &Caller) -> ApiResult<()> {
    match caller.role {
        Role::Admin | Role::GlobalMod | Role::BoardMod => Ok(()),
        Role::Janitor | Role::User => Err(forbidden("Your account's role does not allow bans.")),
    }
}

/// Whether `caller` may give, lift or answer a ban on `board` (`None`: every board).
fn may_ban(caller: &Caller, board: Option<&str>) -> bool {
    match board {
        Some(board) => caller.may_manage_board(board),
        None => matches!(caller.role, Role::Admin | Role::GlobalMod),
    }
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(ErrorKind::Forbidden, message.to_owned())
}

/// The fields every way of banning takes: `duration`, `reason`, `note`.
struct Terms {
    expires_at: Option<u64>,
    reason: String,
    note: Option<String>,
}

fn terms(fields: &mut Fields, duration: Option<Value>, now: u64) -> ApiResult<Terms> {
    let expires_at = duration_field(duration)?.map(|secs| now + secs);
    let reason = fields.required_text("reason")?;
    check_text("reason", &reason, MAX_REASON_CHARS, Lines::Many)?;
    if blank(&reason) {
        let message = "`reason` is empty; the poster is told why they are banned.";
        return Err(ApiError::new(ErrorKind::Empty, message).with_field("reason"));
    }
    let note = fields.text("note")?;
    if let Some(note) = &note {
        check_text("note", note, MAX_NOTE_CHARS, Lines::Many)?;
    }
    Ok(Terms {
        expires_at,
        reason,
        note: note.filter(|n| !blank(n)),
    })
}

/// `duration`: whole seconds from 1 to ten years, or `"permanent"` (→ `None`).
fn duration_field(value: Option<Value>) -> ApiResult<Option<u64>> {
    let range = || {
        let message =
            format!("`duration` is whole seconds from 1 to {MAX_DURATION_SECS}, or \"permanent\".");
        ApiError::new(ErrorKind::OutOfRange, message).with_field("duration")
    };
    match value {
        None | Some(Value::Null) => Err(ApiError::new(
            ErrorKind::MissingField,
            "The field `duration` is needed: seconds, or \"permanent\".",
        )
        .with_field("duration")),
        Some(Value::String(s)) if s == "permanent" => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(secs) if (1..=MAX_DURATION_SECS).contains(&secs) => Ok(Some(secs)),
            _ => Err(range()),
        },
        Some(_) => Err(ApiError::new(
            ErrorKind::InvalidType,
            "`duration` is a number of seconds or the string \"permanent\".",
        )
        .with_field("duration")),
    }
}

/// `POST /api/bans` with `{"address"|"cloak", "board"?, "global"?, "duration", "reason",
/// "note"?, "post"?, "mark"?}` → 201 `{"ban":Ban}`. `address` is an address or a CIDR network;
/// `cloak` is a poster's cloak on `board`. The ban applies on `board`, or everywhere with
/// `"global": true` (global moderators and admins). `post` records the post it is for, and
/// `mark` (true, or a text) puts the public mark on that post.
pub async fn create(app: &App, caller: &Caller, req: Request<Incoming>) -> ApiResult<Response> {
    let mut map = json_object(req).await?;
    require_staff(caller)?;
    let duration = map.remove("duration");
    let post = post_field(map.remove("post"))?;
    let mark = mark_field(map.remove("mark"))?;
    let allowed = [
        "address", "cloak", "board", "global", "duration", "reason", "note", "post", "mark",
    ];
    let mut fields = Fields::new(map, &allowed)?;
    if mark.is_some() && post.is_none() {
        let message = "A `mark` goes on a `post`: name it.";
        return Err(ApiError::new(ErrorKind::MissingField, message).with_field("post"));
    }
    if post
        .as_ref()
        .is_some_and(|p| !caller.may_manage_board(&p.board))
    {
        return Err(forbidden("You do not moderate the post's board."));
    }
    let address = fields.text("address")?;
    let cloak = fields.text("cloak")?;
    let board = fields.text("board")?;
    let global = fields.flag("global")?;
    let now = unix_now();
    let terms = terms(&mut fields, duration, now)?;
    let target = match (address, cloak) {
        (Some(address), None) => {
            if global && board.is_some() {
                let message = "A global address ban names no `board`.";
                return Err(ApiError::new(ErrorKind::InvalidValue, message).with_field("board"));
            }
            let net = Net::parse(&address).map_err(|message| {
                ApiError::new(ErrorKind::InvalidValue, message).with_field("address")
            })?;
            Target::Network(net)
        }
        (None, Some(cloak)) => {
            if !valid_cloak(&cloak) {
                let message = "`cloak` is the 12 characters staff see instead of an address.";
                return Err(ApiError::new(ErrorKind::InvalidValue, message).with_field("cloak"));
            }
            let Some(board) = board.clone() else {
                let message = "A cloak ban names the `board` the cloak was seen on.";
                return Err(ApiError::new(ErrorKind::MissingField, message).with_field("board"));
            };
            Target::Cloak { board, cloak }
        }
        (Some(_), Some(_)) => {
            let message = "Give either `address` or `cloak`, not both.";
            return Err(ApiError::new(ErrorKind::InvalidValue, message).with_field("cloak"));
        }
        (None, None) => {
            let message = "A ban needs an `address` (or network) or a `cloak`.";
            return Err(ApiError::new(ErrorKind::MissingField, message).with_field("address"));
        }
    };
    let scope = if global {
        None
    } else {
        match board {
            Some(board) => Some(board),
            None => {
                let message = "Name the `board` the ban is on, or set `global`.";
                return Err(ApiError::new(ErrorKind::MissingField, message).with_field("board"));
            }
        }
    };
    if !may_ban(caller, scope.as_deref()) {
        return Err(forbidden(if scope.is_some() {
            "You do not moderate this board."
        } else {
            "Global bans are for global moderators and admins."
        }));
    }
    if let Target::Cloak { board, .. } = &target {
        if !caller.may_manage_board(board) {
            return Err(forbidden("You do not moderate the cloak's board."));
        }
        let slug = board.clone();
        app.read(move |r| r.require_board(&slug).map(drop)).await?;
    }
    let ban = Ban {
        id: 0,
        board: scope,
        target,
        post,
        poster_cloak: None,
        reason: terms.reason,
        note: terms.note,
        by: Some(caller.username.clone()),
        created_at: now,
        expires_at: terms.expires_at,
        appeal: None,
    };
    give(app, caller, ban, mark).await
}

/// `post`: `{"board","no"}`, the post a ban is given for.
fn post_field(value: Option<Value>) -> ApiResult<Option<BoardPost>> {
    let bad = || {
        ApiError::new(
            ErrorKind::InvalidType,
            "`post` is an object `{\"board\": slug, \"no\": number}`.",
        )
        .with_field("post")
    };
    let map = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(bad()),
    };
    if map.len() != 2 {
        return Err(bad());
    }
    match (map.get("board"), map.get("no").and_then(Value::as_u64)) {
        (Some(Value::String(board)), Some(no)) if no >= 1 => Ok(Some(BoardPost {
            board: board.clone(),
            no,
        })),
        _ => Err(bad()),
    }
}

/// Submits a new ban and answers 201 with it.
pub async fn give(
    app: &App,
    caller: &Caller,
    ban: Ban,
    mark: Option<String>,
) -> ApiResult<Response> {
    let write = Write::Ban(BanWrite::Create {
        ban: Box::new(ban),
        mark,
    });
    let Written::Ban(ban) = app.writer.submit(write).await? else {
        return Err(ApiError::internal("ban_unwritten", "no ban came back"));
    };
    Ok(response::created(
        "/api/bans",
        &json!({ "ban": ban.staff_json(caller.role == Role::Admin) }),
    ))
}

/// `mark` on a ban from a post: `true` for the usual text, or the text itself.
pub fn mark_field(value: Option<Value>) -> ApiResult<Option<String>> {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Bool(true)) => Ok(Some(DEFAULT_MARK.to_owned())),
        Some(Value::String(text)) => {
            check_text("mark", &text, MAX_MARK_CHARS, Lines::One)?;
            if blank(&text) {
                let message = "`mark` is empty; send true for the usual text.";
                return Err(ApiError::new(ErrorKind::Empty, message).with_field("mark"));
            }
            Ok(Some(text))
        }
        Some(_) => Err(ApiError::new(
            ErrorKind::InvalidType,
            "`mark` is true, false, or the text to show on the post.",
        )
        .with_field("mark")),
    }
}

/// What a listing may show: one board the caller moderates, or (global staff) every board or
/// only the global bans.
enum Scope {
    Board(String),
    Global,
    All,
}

fn scope_param(caller: &Caller, board: Option<&String>) -> ApiResult<Scope> {
    let scope = match board.map(String::as_str) {
        Some("global") => Scope::Global,
        Some(board) => Scope::Board(board.to_owned()),
        None => Scope::All,
    };
    let allowed = match &scope {
        Scope::Board(board) => caller.may_manage_board(board),
        Scope::Global | Scope::All => may_ban(caller, None),
    };
    if !allowed {
        return Err(forbidden(
            "You may list the bans of the boards you moderate: name one with `board`.",
        ));
    }
    Ok(scope)
}

impl Scope {
    fn includes(&self, ban: &Ban) -> bool {
        match self {
            Scope::Board(board) => ban.board.as_deref() == Some(board),
            Scope::Global => ban.board.is_none(),
            Scope::All => true,
        }
    }
}

fn limit_param(params: &std::collections::HashMap<String, String>) -> ApiResult<usize> {
    let limit = query_number(params, "limit", 1)?.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        let message = format!("`limit` is at most {MAX_LIMIT}.");
        return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field("limit"));
    }
    Ok(limit as usize)
}

/// `GET /api/bans[?board=slug|global][&cloak=][&address=][&before=id][&limit=n]` →
/// `{"bans":[Ban]}`, newest first. `address` (admins only) finds the bans that apply to an
/// address; `cloak` those given on a cloak or from a post of that cloak.
pub async fn list(app: &App, caller: &Caller, raw_query: Option<&str>) -> ApiResult<Response> {
    require_staff(caller)?;
    let params = query(raw_query, &["board", "cloak", "address", "before", "limit"])?;
    let scope = scope_param(caller, params.get("board"))?;
    let limit = limit_param(&params)?;
    let before = query_number(&params, "before", 1)?.unwrap_or(u64::MAX);
    let admin = caller.role == Role::Admin;
    let ids: Option<Vec<u64>> = match (params.get("address"), params.get("cloak")) {
        (Some(_), Some(_)) => {
            let message = "Search by `address` or by `cloak`, not both.";
            return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field("cloak"));
        }
        (Some(address), None) => {
            if !admin {
                return Err(forbidden("Only admins search bans by address."));
            }
            let ip: IpAddr = address.parse().map_err(|_| {
                let message = format!("`{address}` is not an IP address.");
                ApiError::new(ErrorKind::InvalidQuery, message).with_field("address")
            })?;
            let applying = app.bans.applying(&app.keys, None, ip, unix_now());
            let mut ids: Vec<u64> = applying.iter().map(|b| b.id).collect();
            ids.reverse();
            Some(ids)
        }
        (None, Some(cloak)) => {
            if !valid_cloak(cloak) {
                let message = "`cloak` is the 12 characters staff see instead of an address.";
                return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field("cloak"));
            }
            Some(app.bans.by_cloak(cloak))
        }
        (None, None) => None,
    };
    let bans = app
        .read(move |r| match ids {
            Some(ids) => {
                let mut out = Vec::new();
                for id in ids.into_iter().filter(|&id| id < before) {
                    if out.len() == limit {
                        break;
                    }
                    if let Some(ban) = r.ban(id)?.filter(|b| scope.includes(b)) {
                        out.push(ban);
                    }
                }
                Ok(out)
            }
            None => {
                let board = match &scope {
                    Scope::Board(board) => Some(board.as_str()),
                    Scope::Global => Some(""),
                    Scope::All => None,
                };
                r.bans_page(board, before, limit)
            }
        })
        .await?;
    let bans: Vec<Value> = bans.iter().map(|b| b.staff_json(admin)).collect();
    Ok(response::ok_json(&json!({ "bans": bans })))
}

/// The ban `id`, for staff allowed to act on it.
async fn ban_for_staff(app: &App, caller: &Caller, id: u64) -> ApiResult<Ban> {
    require_staff(caller)?;
    let ban = app.read(move |r| r.ban(id)).await?;
    let ban = ban.ok_or_else(|| not_found(id))?;
    if !may_ban(caller, ban.board.as_deref()) {
        return Err(forbidden(if ban.board.is_some() {
            "You do not moderate this ban's board."
        } else {
            "Global bans are for global moderators and admins."
        }));
    }
    Ok(ban)
}

fn not_found(id: u64) -> ApiError {
    ApiError::new(ErrorKind::BanNotFound, format!("There is no ban {id}."))
}

/// An optional text field of at most `max` characters, blank counting as absent.
fn optional_text(fields: &mut Fields, name: &str, max: u32) -> ApiResult<Option<String>> {
    let text = fields.text(name)?;
    if let Some(text) = &text {
        check_text(name, text, max, Lines::Many)?;
    }
    Ok(text.filter(|t| !blank(t)))
}

/// `POST /api/bans/{id}/lift` with `{"note"?}` → `{"lifted": id}`. The ban stops at once.
pub async fn lift(
    app: &App,
    caller: &Caller,
    id: u64,
    req: Request<Incoming>,
) -> ApiResult<Response> {
    let map = json_object(req).await?;
    let mut fields = Fields::new(map, &["note"])?;
    let note = optional_text(&mut fields, "note", MAX_NOTE_CHARS)?;
    ban_for_staff(app, caller, id).await?;
    let write = Write::Ban(BanWrite::Lift {
        id,
        actor: caller.username.clone(),
        note,
    });
    app.writer.submit(write).await?;
    Ok(response::ok_json(&json!({ "lifted": id })))
}

/// `GET /api/bans/mine` → `{"banned": bool, "bans": [Ban as its poster sees it]}`: every ban
/// that applies to the client's address, on any board, with its appeal and answer.
pub async fn mine(app: &App, raw_query: Option<&str>, client: IpAddr) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let applying = app.bans.applying(&app.keys, None, client, unix_now());
    let bans: Vec<Value> = applying.iter().map(|b| b.poster_json()).collect();
    Ok(response::ok_json(
        &json!({ "banned": !bans.is_empty(), "bans": bans }),
    ))
}

/// The active ban `id` when it applies to `client`; otherwise `ban_not_found`, so nobody
/// learns of bans on other addresses.
fn own_ban(app: &App, id: u64, client: IpAddr) -> ApiResult<Arc<Ban>> {
    app.bans
        .applying(&app.keys, None, client, unix_now())
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::BanNotFound,
                format!("No ban {id} applies to your address."),
            )
        })
}

/// `POST /api/bans/{id}/appeal` with `{"text"}` → 201 `{"ban": Ban as its poster sees it}`.
/// From an address the ban applies to; once per ban (409 `appeal_exists`).
pub async fn appeal(
    app: &App,
    id: u64,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let map = json_object(req).await?;
    let mut fields = Fields::new(map, &["text"])?;
    let text = fields.required_text("text")?;
    check_text("text", &text, MAX_APPEAL_CHARS, Lines::Many)?;
    if blank(&text) {
        let message = "`text` is empty; say why the ban should end.";
        return Err(ApiError::new(ErrorKind::Empty, message).with_field("text"));
    }
    own_ban(app, id, client)?;
    let write = Write::Ban(BanWrite::Appeal { id, text });
    let Written::Ban(ban) = app.writer.submit(write).await? else {
        return Err(ApiError::internal("ban_unwritten", "no ban came back"));
    };
    Ok(response::created(
        "/api/bans/mine",
        &json!({ "ban": ban.poster_json() }),
    ))
}

/// `GET /api/bans/appeals[?board=slug|global][&limit=n]` → `{"appeals":[Ban]}`: bans with an
/// open appeal, oldest first.
pub async fn appeals(app: &App, caller: &Caller, raw_query: Option<&str>) -> ApiResult<Response> {
    require_staff(caller)?;
    let params = query(raw_query, &["board", "limit"])?;
    let limit = limit_param(&params)?;
    let admin = caller.role == Role::Admin;
    let scope = match params.get("board") {
        Some(_) => Some(scope_param(caller, params.get("board"))?),
        // A board moderator sees the appeals of every board they moderate.
        None if !may_ban(caller, None) => None,
        None => Some(Scope::All),
    };
    let boards = caller.boards.clone();
    let bans = app
        .read(move |r| {
            r.open_appeals(limit, |ban| match &scope {
                Some(scope) => scope.includes(ban),
                None => ban.board.as_ref().is_some_and(|b| boards.contains(b)),
            })
        })
        .await?;
    let bans: Vec<Value> = bans.iter().map(|b| b.staff_json(admin)).collect();
    Ok(response::ok_json(&json!({ "appeals": bans })))
}

/// `POST /api/bans/{id}/appeal/accept` with `{"answer"?}` or `/appeal/deny` with
/// `{"answer"}` → `{"ban":Ban}`. Accepting ends the ban; a denial's answer is what the poster
/// reads in `/api/bans/mine`.
pub async fn answer(
    app: &App,
    caller: &Caller,
    id: u64,
    accept: bool,
    req: Request<Incoming>,
) -> ApiResult<Response> {
    let map: Map<String, Value> = json_object(req).await?;
    let mut fields = Fields::new(map, &["answer"])?;
    let answer = optional_text(&mut fields, "answer", MAX_APPEAL_CHARS)?;
    if !accept && answer.is_none() {
        let message = "A denial needs an `answer`: the poster reads it.";
        return Err(ApiError::new(ErrorKind::MissingField, message).with_field("answer"));
    }
    ban_for_staff(app, caller, id).await?;
    let write = Write::Ban(BanWrite::Answer {
        id,
        accept,
        answer,
        actor: caller.username.clone(),
    });
    let Written::Ban(ban) = app.writer.submit(write).await? else {
        return Err(ApiError::internal("ban_unwritten", "no ban came back"));
    };
    Ok(response::ok_json(
        &json!({ "ban": ban.staff_json(caller.role == Role::Admin) }),
    ))
}

/// `POST /api/boards/{board}/posts/{no}/ban` with `{"duration", "reason", "note"?, "global"?,
/// "mark"?, "by"?}` → 201 `{"ban":Ban}`: bans the poster of post `no`. `by` is `address` (the
/// poster's network: an IPv4 address or an IPv6 /64; the default while the address is kept)
/// or `cloak` (the poster's cloak on this board; the default once the address is erased), so
/// staff ban without ever seeing the address. `mark` puts the public mark on the post.
pub async fn ban_poster(
    app: &App,
    caller: &Caller,
    board: String,
    no: u64,
    req: Request<Incoming>,
) -> ApiResult<Response> {
    let mut map = json_object(req).await?;
    let duration = map.remove("duration");
    let mark = mark_field(map.remove("mark"))?;
    let allowed = ["duration", "reason", "note", "global", "mark", "by"];
    let mut fields = Fields::new(map, &allowed)?;
    let global = fields.flag("global")?;
    let by = fields.text("by")?;
    if by
        .as_deref()
        .is_some_and(|b| b != "address" && b != "cloak")
    {
        let message = "`by` is `address` or `cloak`.";
        return Err(ApiError::new(ErrorKind::InvalidValue, message).with_field("by"));
    }
    let now = unix_now();
    let terms = terms(&mut fields, duration, now)?;
    if global && !may_ban(caller, None) {
        return Err(forbidden(
            "Global bans are for global moderators and admins.",
        ));
    }
    let (slug, at) = (board.clone(), no);
    let record = app
        .read(move |r| {
            r.require_board(&slug)?;
            if r.post(&slug, at)?.is_none() {
                return Err(match r.tombstone(&slug, at)? {
                    Some(_) => ApiError::post_deleted(&slug, at),
                    None => ApiError::post_not_found(&slug, at),
                });
            }
            r.poster(&slug, at)
        })
        .await?;
    let Some(record) = record else {
        let message = format!("Post {no} on /{board}/ was written before posters were recorded.");
        return Err(ApiError::new(ErrorKind::PosterUnknown, message));
    };
    let target = match (by.as_deref(), record.address) {
        (Some("address"), None) => {
            let message = "This poster's address is erased; ban `by` cloak.";
            return Err(ApiError::new(ErrorKind::PosterUnknown, message).with_field("by"));
        }
        (_, None) | (Some("cloak"), _) => Target::Cloak {
            board: record.cloak_board.clone().unwrap_or_else(|| board.clone()),
            cloak: record.cloak.clone(),
        },
        (_, Some(address)) => Target::Network(Net::of_poster(address)),
    };
    let ban = Ban {
        id: 0,
        board: (!global).then(|| board.clone()),
        target,
        post: Some(BoardPost { board, no }),
        poster_cloak: Some(record.cloak),
        reason: terms.reason,
        note: terms.note,
        by: Some(caller.username.clone()),
        created_at: now,
        expires_at: terms.expires_at,
        appeal: None,
    };
    give(app, caller, ban, mark).await
}

/// The report actions that ban: `ban` bans the reported post's poster (by network while the
/// address is kept, else by cloak; `mark` puts the public mark on the post), and
/// `dismiss_and_ban_reporters` bans every reporter of the post for report abuse; both close
/// the post's reports, in the bans' transaction. `duration` and `reason` (public) are needed,
/// as for any ban; janitors, who handle reports, may not ban (403 `forbidden`).
#[allow(clippy::too_many_arguments)]
pub async fn for_reports(
    app: &App,
    caller: &Caller,
    board: String,
    no: u64,
    action: ReportAction,
    mut fields: Fields,
    duration: Option<Value>,
    mark: Option<Value>,
) -> ApiResult<Response> {
    let reporters = action == ReportAction::BanReporters;
    let mark = mark_field(mark)?;
    if reporters && mark.is_some() {
        let message = "A `mark` goes on the reported post, with `ban`.";
        return Err(ApiError::new(ErrorKind::InvalidValue, message).with_field("mark"));
    }
    let now = unix_now();
    let terms = terms(&mut fields, duration, now)?;
    if !may_ban(caller, Some(&board)) {
        return Err(forbidden("Your account's role does not allow bans."));
    }
    let template = Ban {
        id: 0,
        board: Some(board.clone()),
        target: Target::Cloak {
            board: board.clone(),
            cloak: String::new(),
        },
        post: None,
        poster_cloak: None,
        reason: terms.reason,
        note: terms.note,
        by: Some(caller.username.clone()),
        created_at: now,
        expires_at: terms.expires_at,
        appeal: None,
    };
    let write = Write::Ban(BanWrite::Reports {
        board: board.clone(),
        no,
        reporters,
        terms: Box::new(template),
        mark,
    });
    let Written::Handled { reports, deleted } = app.writer.submit(write).await? else {
        return Err(ApiError::internal(
            "unexpected_write_result",
            "a report ban answered something else",
        ));
    };
    let body = json!({ "handled": {
        "board": board, "no": no, "action": action.name(), "reports": reports, "deleted": deleted,
    }});
    Ok(response::ok_json(&body))
}
