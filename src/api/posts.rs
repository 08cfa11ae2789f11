//! Posts: what a post may contain, replying to a thread, and reading one post.

use std::net::IpAddr;

use hyper::body::Incoming;
use hyper::{HeaderMap, Request};
use serde_json::{json, Map, Value};

use crate::antispam::{self, Ticket};
use crate::app::App;
use crate::auth::Caller;
use crate::cache::{Group, Key};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::files::Placement;
use crate::http::request::{json_object, query, query_number, refuse_unread};
use crate::http::{response, Response};
use crate::input::{blank, check_name_trip, check_text, normalize, Fields, Lines};
use crate::model::{Board, Origin, PostDraft};
use crate::poster::{split_name, Keys};
use crate::storage::{Write, Written};
use crate::uploads;

/// The name shown when a poster gives none.
pub const DEFAULT_NAME: &str = "Anonymous";

/// Whether the post opens a thread (and so may have a subject).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Thread,
    Reply,
}

/// Reads a new post in either form: JSON for text, `multipart/form-data` for text with files.
/// Flood control and the DNSBL come first, before the body is read; the text is validated
/// before any image work (and a reply's thread was checked before the body was read); the files
/// come back already placed on disk, held by the [`Placement`] until the post is committed, as
/// the flood-control claims are by the [`Ticket`].
pub async fn receive(
    app: &App,
    req: Request<Incoming>,
    client: IpAddr,
    board: &Board,
    kind: Kind,
    caller: Option<&Caller>,
) -> ApiResult<(PostDraft, Placement, Ticket)> {
    let mut ticket = match antispam::admit(app, client, board, kind, caller).await {
        Ok(ticket) => ticket,
        Err(e) => return Err(refuse_unread(req, e).await),
    };
    let poster = Poster {
        keys: &app.keys,
        client,
        caller,
    };
    if !uploads::is_multipart(&req) {
        let map = json_object(req).await.map_err(|mut e| {
            if e.kind == ErrorKind::UnsupportedMediaType {
                e.message = format!("{} Posts with files use multipart/form-data.", e.message);
            }
            e
        })?;
        let mut map = map;
        app.captchas.check_post(board, client, caller, &mut map)?;
        let mut draft = draft(map, board, kind, 0, &poster)?;
        filter(app, board, &mut draft, &mut [], client).await?;
        ticket.check_text(kind, &draft.body, 0)?;
        return Ok((draft, Placement::default(), ticket));
    }
    let check =
        |text: &mut Map<String, Value>| app.captchas.check_post(board, client, caller, text);
    let mut form = uploads::read_form(app, req, board, kind, check).await?;
    let mut draft = draft(form.text, board, kind, form.files.len(), &poster)?;
    // Before any image work: a rejected post costs no decoding and leaves no file.
    filter(app, board, &mut draft, &mut form.files, client).await?;
    ticket.check_text(kind, &draft.body, form.files.len())?;
    let (files, placement) = uploads::store(app, board, form.files).await?;
    draft.files = files;
    Ok((draft, placement, ticket))
}

/// Checks the post's text against the word filters of its board and of every board: refuses it
/// (403 `post_filtered`; a `reject_and_ban` filter bans the poster's network first) or rewrites
/// the matches. Rewritten text is checked against the board's limits again, as the poster's own
/// text was.
async fn filter(
    app: &App,
    board: &Board,
    draft: &mut PostDraft,
    files: &mut [uploads::Upload],
    client: IpAddr,
) -> ApiResult<()> {
    let filters = app.filters.current();
    // The default name is the server's, not the poster's: filters see no name then.
    let mut unnamed = String::new();
    let name = if draft.name == DEFAULT_NAME && draft.trip.is_none() {
        &mut unnamed
    } else {
        &mut draft.name
    };
    let mut texts = crate::filters::Texts {
        name,
        subject: &mut draft.subject,
        body: &mut draft.body,
        file_names: files.iter_mut().map(|f| f.name_mut()).collect(),
    };
    let changed = match filters.apply(&board.slug, &mut texts) {
        Ok(changed) => changed,
        Err(rejected) => {
            if let Some((id, scope, secs)) = rejected.ban {
                ban_for_filter(app, &board.slug, client, id, scope, secs, &rejected.message)
                    .await?;
            }
            return Err(crate::filters::rejected(&rejected.message));
        }
    };
    if !changed {
        return Ok(());
    }
    check_text("body", &draft.body, board.max_body_chars, Lines::Many)?;
    check_text("name", &draft.name, board.max_name_chars, Lines::One)?;
    if let Some(subject) = &draft.subject {
        check_text("subject", subject, board.max_subject_chars, Lines::One)?;
    }
    Ok(())
}

/// Bans the poster of a post a `reject_and_ban` filter refused: their network (an IPv4 address,
/// an IPv6 /64), on the filter's board or every board, given by the server (`by: null`).
async fn ban_for_filter(
    app: &App,
    board: &str,
    client: IpAddr,
    filter: u64,
    scope: Option<String>,
    secs: u64,
    reason: &str,
) -> ApiResult<()> {
    use crate::bans::{Ban, Net, Target};
    let now = crate::storage::writer::unix_now();
    let ban = Ban {
        id: 0,
        board: scope,
        target: Target::Network(Net::of_poster(client)),
        post: None,
        poster_cloak: Some(app.keys.cloak(board, client)),
        reason: reason.to_owned(),
        note: Some(format!("word filter {filter}")),
        by: None,
        created_at: now,
        expires_at: Some(now + secs),
        appeal: None,
    };
    let write = Write::Ban(crate::storage::BanWrite::Create {
        ban: Box::new(ban),
        mark: None,
    });
    app.writer.submit(write).await?;
    Ok(())
}

/// Who is posting: the server's keys and the client's address, for tripcodes, poster ids,
/// deletion passwords and the record staff see (the address, until `ip_retention_days` erases
/// it, and its cloak). No secret is stored.
pub struct Poster<'a> {
    pub keys: &'a Keys,
    pub client: IpAddr,
    /// The logged-in caller, who may post with a capcode.
    pub caller: Option<&'a Caller>,
}

/// Longest tripcode secret, deletion password and `email`, in characters.
const MAX_SECRET_CHARS: u32 = 128;
const MAX_EMAIL_CHARS: u32 = 254;

/// The text fields of a new post, by kind.
pub fn text_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Thread => &[
            "subject",
            "name",
            "body",
            "sage",
            "email",
            "password",
            "capcode",
            "captcha_id",
            "captcha_answer",
        ],
        Kind::Reply => &[
            "name",
            "body",
            "sage",
            "email",
            "password",
            "capcode",
            "captcha_id",
            "captcha_answer",
        ],
    }
}

/// Validates a post's text against the board's limits and turns it into a draft for the writer.
/// A post carrying files (`file_count`) may have no body.
pub fn draft(
    map: Map<String, Value>,
    board: &Board,
    kind: Kind,
    file_count: usize,
    poster: &Poster,
) -> ApiResult<PostDraft> {
    let allowed = text_fields(kind);
    let mut fields = Fields::new(map, allowed)?;
    let subject = if kind == Kind::Thread {
        fields.text("subject")?
    } else {
        None
    };
    let name = fields.text("name")?;
    let body = fields.text("body")?;
    let sage = fields.flag("sage")?;
    let email = fields.text("email")?;
    let password = fields.text("password")?;
    let capcode = fields.text("capcode")?;
    check_capcode(capcode.as_deref(), poster.caller, &board.slug)?;

    if kind == Kind::Thread && board.require_file && file_count == 0 {
        let message = format!("A new thread on /{}/ needs a file.", board.slug);
        return Err(ApiError::new(ErrorKind::FileRequired, message).with_field("file"));
    }
    let body = match body {
        Some(body) => normalize(&body, Lines::Many),
        None if file_count > 0 => String::new(),
        None => {
            let message = "A post needs a `body` (or, sent as multipart/form-data, a file).";
            return Err(ApiError::new(ErrorKind::MissingField, message).with_field("body"));
        }
    };
    check_text("body", &body, board.max_body_chars, Lines::Many)?;
    if blank(&body) && file_count == 0 {
        let message = "The post body is empty (invisible characters do not count).";
        return Err(ApiError::new(ErrorKind::Empty, message).with_field("body"));
    }
    let raw_name = name.unwrap_or_default();
    let (given_name, secret) = split_name(&raw_name);
    let name = normalize(given_name, Lines::One);
    check_text("name", &name, board.max_name_chars, Lines::One)?;
    // A name of spaces is no name (Anonymous); one that only invisible characters made look
    // non-empty is refused, so nobody posts under a blank name.
    if blank(&name) && !given_name.trim().is_empty() {
        let message = "The name is empty once its invisible characters are removed.";
        return Err(ApiError::new(ErrorKind::Empty, message).with_field("name"));
    }
    if !board.forced_anon {
        check_name_trip(&name)?;
    }
    if let Some(secret) = secret {
        check_text("name", secret, MAX_SECRET_CHARS, Lines::One)?;
    }
    let subject = normalize(&subject.unwrap_or_default(), Lines::One);
    check_text("subject", &subject, board.max_subject_chars, Lines::One)?;
    let email = email.unwrap_or_default();
    check_text("email", &email, MAX_EMAIL_CHARS, Lines::One)?;
    if let Some(password) = &password {
        check_text("password", password, MAX_SECRET_CHARS, Lines::One)?;
        if password.is_empty() {
            let message = "The deletion password is empty; leave the field out for none.";
            return Err(ApiError::new(ErrorKind::Empty, message).with_field("password"));
        }
    }

    let (name, trip) = match name.trim() {
        _ if board.forced_anon => (DEFAULT_NAME.to_owned(), None),
        "" => (DEFAULT_NAME.to_owned(), secret),
        trimmed => (trimmed.to_owned(), secret),
    };
    let subject = Some(subject.trim().to_owned()).filter(|s| !blank(s));
    Ok(PostDraft {
        name,
        subject,
        body,
        // The 4chan convention: `sage` in the email field.
        sage: sage || email.trim().eq_ignore_ascii_case("sage"),
        files: Vec::new(),
        trip: trip.map(|secret| poster.keys.tripcode(secret)),
        id_key: Some(poster.keys.id_key(&board.slug, poster.client)),
        password: password.map(|p| poster.keys.password(&p)),
        capcode,
        origin: Some(Origin {
            address: poster.client,
            cloak: poster.keys.cloak(&board.slug, poster.client),
        }),
    })
}

/// A capcode is `admin` (admins) or `mod` (admins, global moderators, and the board's
/// moderators), chosen on each post, and only by a logged-in caller entitled to it.
fn check_capcode(capcode: Option<&str>, caller: Option<&Caller>, board: &str) -> ApiResult<()> {
    let Some(capcode) = capcode else {
        return Ok(());
    };
    if !matches!(capcode, "admin" | "mod") {
        let message = "`capcode` is `admin` or `mod`; leave it out to post as anyone.";
        return Err(ApiError::new(ErrorKind::InvalidType, message).with_field("capcode"));
    }
    let refused = |message: &str| {
        Err(ApiError::new(ErrorKind::CapcodeNotAllowed, message.to_owned()).with_field("capcode"))
    };
    match caller {
        None => refused("Posting with a capcode needs a staff account logged in."),
        Some(caller) if !caller.may_use_capcode(capcode, board) => {
            refused("Your account's role does not allow this capcode here.")
        }
        Some(_) => Ok(()),
    }
}

/// Submits a post to the writer and answers 201 once it is durably committed; only then are
/// its files and its flood-control claims kept.
pub async fn submit(
    app: &App,
    write: Write,
    placement: Placement,
    ticket: Ticket,
) -> ApiResult<Response> {
    let written = match app.writer.submit(write).await {
        Ok(written) => written,
        Err(e) => {
            placement.discard().await;
            return Err(e);
        }
    };
    match written {
        Written::Post { board, thread, no } => {
            placement.commit();
            ticket.keep();
            Ok(response::created(
                &format!("/api/boards/{board}/posts/{no}"),
                &json!({ "board": board, "thread": thread, "no": no }),
            ))
        }
        other => Err(ApiError::internal(
            "writer_mismatch",
            format!("a post write returned {other:?}"),
        )),
    }
}

/// `POST /api/boards/{board}/threads/{thread}/posts` with `{"name"?, "body", "sage"?}`, or the
/// same as multipart/form-data with `file` and `spoiler` parts → 201 `{"board","thread","no"}`.
pub async fn create_reply(
    app: &App,
    board: String,
    thread: u64,
    req: Request<Incoming>,
    client: IpAddr,
    caller: Option<&Caller>,
) -> ApiResult<Response> {
    let settings = match app.board(&board).await {
        Ok(settings) => settings,
        Err(e) => return Err(refuse_unread(req, e).await),
    };
    if let Err(e) = crate::api::bans::refuse_banned(app, &board, client) {
        return Err(refuse_unread(req, e).await);
    }
    if uploads::is_multipart(&req) {
        if let Err(e) = uploads::check_thread(app, &board, thread).await {
            return Err(refuse_unread(req, e).await);
        }
    }
    let (draft, placement, ticket) =
        receive(app, req, client, &settings, Kind::Reply, caller).await?;
    let write = Write::CreateReply {
        board: board.clone(),
        thread,
        draft,
    };
    let answer = submit(app, write, placement, ticket).await?;
    app.captchas.record_post(&board, std::time::Instant::now());
    Ok(answer)
}

/// `GET /api/boards/{board}/posts/{no}` → `{"post":Post}`.
pub async fn get(
    app: &App,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    board: String,
    no: u64,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let key = Key::Post(board.clone(), no);
    app.cached_get(headers, key, move |r| {
        r.require_board(&board)?;
        let Some(post) = r.post(&board, no)? else {
            if let Some((to, new, thread)) = r.moved(&board, no)? {
                let what = format!("Post {no} on /{board}/");
                let location = format!("/api/boards/{to}/posts/{new}");
                return Err(ApiError::moved(what, &to, thread, location));
            }
            return Err(match r.tombstone(&board, no)? {
                Some(_) => ApiError::post_deleted(&board, no),
                None => ApiError::post_not_found(&board, no),
            });
        };
        let body = response::envelope("post", &post);
        Ok((Group::Thread(board, post.thread), body))
    })
    .await
}

/// `POST /api/boards/{board}/posts/{no}/delete` with `{"password", "file_only"?}` → 200
/// `{"deleted":{"board","no","file_only"}}`: the poster deletes their post (an OP: its thread)
/// or only its files, with the password they posted with, within the board's window. Wrong
/// passwords are limited per client network and per post (429 `rate_limited`).
pub async fn delete(
    app: &App,
    board: String,
    no: u64,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["password", "file_only"])?;
    let Some(password) = fields.text("password")? else {
        let message = "Deleting a post needs the `password` it was posted with.";
        return Err(ApiError::new(ErrorKind::MissingField, message).with_field("password"));
    };
    check_text("password", &password, MAX_SECRET_CHARS, Lines::One)?;
    let file_only = fields.flag("file_only")?;
    let attempt = app.delete_guard.try_take(client, &board, no)?;
    let write = Write::DeletePost {
        board: board.clone(),
        no,
        password: app.keys.password(&password),
        file_only,
    };
    let result = app.writer.submit(write).await;
    if !matches!(&result, Err(e) if e.kind == ErrorKind::WrongPassword) {
        app.delete_guard.give_back(attempt);
    }
    result?;
    let body = json!({ "deleted": { "board": board, "no": no, "file_only": file_only } });
    Ok(response::ok_json(&body))
}

/// Posts in the recent list by default, and at most.
const RECENT_DEFAULT: u64 = 20;
const RECENT_MAX: u64 = 100;

/// `GET /api/recent?limit=N` → `{"posts":[Post]}`: the newest posts across boards, newest
/// first, leaving out boards with `show_in_recent = false`.
pub async fn recent(
    app: &App,
    headers: &HeaderMap,
    raw_query: Option<&str>,
) -> ApiResult<Response> {
    let params = query(raw_query, &["limit"])?;
    let limit = query_number(&params, "limit", 1)?.unwrap_or(RECENT_DEFAULT);
    if limit > RECENT_MAX {
        let message = format!("`limit` is at most {RECENT_MAX}.");
        return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field("limit"));
    }
    app.cached_get(headers, Key::Recent(limit), move |r| {
        // Only boards that exist: a deleted board's posts may linger while it is purged.
        let shown: Vec<String> = r
            .boards()?
            .into_iter()
            .filter(|b| b.show_in_recent)
            .map(|b| b.slug)
            .collect();
        let posts = r.recent_posts(limit as usize, |board| shown.iter().any(|s| s == board))?;
        Ok((Group::Recent, response::envelope("posts", &posts)))
    })
    .await
}
