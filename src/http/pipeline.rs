//! The request pipeline, in order: log → check framing → resolve the route → resolve the caller
//! from the session cookie or an API token → the gate (access by [`Route::access`]: public and auth routes pass,
//! private routes need a session, admin and board routes a role; then the CSRF check of a
//! state-changing request made with a session) → dispatch.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, ALLOW, CONNECTION, CONTENT_LENGTH, SET_COOKIE, TRANSFER_ENCODING,
};
use hyper::Request;

use crate::api::{
    admin, auth, bans, boards, captcha, email, file_bans, filters, health, moderation, modlog,
    posts, recovery, reports, thread_actions, threads, tokens, totp, users,
};
use crate::app::App;
use crate::auth::{gate, Caller};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{check_framing, client_addr, refuse_unread, BodyDeadline};
use crate::http::route::{resolve, Resolved, Route};
use crate::http::Response;
use crate::http::{openapi, response};
use crate::notify::{notify, Severity};
use crate::{files, fourchan, live};

/// Handles one request and writes its log line. Never fails: errors become error responses.
pub async fn handle(app: Arc<App>, mut req: Request<Incoming>, peer: SocketAddr) -> Response {
    let started = Instant::now();
    let client = client_addr(peer, req.headers(), &app.config.trusted_proxies);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    req.extensions_mut()
        .insert(BodyDeadline::after(app.config.body_timeout_secs));
    let has_body = req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    let response = match check_framing(&req).and_then(|()| resolve(&method, &path)) {
        Ok(Resolved::Route(route)) => {
            // Run the handler as its own task: a panic becomes a 500 instead of a dropped
            // connection, and a client that hangs up does not cancel a write half-way.
            match tokio::spawn(dispatch(app, route, req, client)).await {
                Ok(Ok(response)) => response,
                Ok(Err(err)) => response::error(&err),
                Err(join) => response::error(&ApiError::internal("handler_panicked", join)),
            }
        }
        Ok(Resolved::MethodNotAllowed { allow }) => {
            let message = format!("{path} does not take {method}; it takes {allow}.");
            let mut r = response::error(&ApiError::new(ErrorKind::MethodNotAllowed, message));
            r.headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
            r
        }
        Err(err) => response::error(&err),
    };
    let response = close_if_unread(response, has_body);
    let status = response.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(target: "wani::request", %method, path, status, ms = %format_args!("{ms:.3}"), %client);
    } else {
        tracing::info!(target: "wani::request", %method, path, status, ms = %format_args!("{ms:.3}"), %client);
    }
    response
}

/// After an answer that may leave the request's body unread or its framing in doubt, the
/// connection is closed rather than reused: the next bytes might be the old body.
fn close_if_unread(mut response: Response, has_body: bool) -> Response {
    let status = response.status().as_u16();
    if matches!(status, 408 | 501) || (has_body && status >= 400) {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Resolves the caller, runs the gate, then the handler. A cookie that names no live session
/// is deleted by whatever the answer is, unless the handler set a cookie of its own.
async fn dispatch(
    app: Arc<App>,
    route: Route,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let resolution = match gate::resolve(&app, req.headers(), client).await {
        Ok(resolution) => resolution,
        Err(e) => {
            if e.kind == ErrorKind::BadAuthorization {
                notify(
                    Severity::Info,
                    "authorization_refused",
                    format_args!("a malformed Authorization header from {client}"),
                );
            }
            return Err(refuse_unread(req, e).await);
        }
    };
    if let Some(scope) = resolution.bearer {
        if let Err(e) = crate::auth::token::admit(&route, req.method(), scope) {
            notify(
                Severity::Info,
                "token_refused",
                format_args!("a {} API token from {client}: {}", scope.name(), e.message),
            );
            return Err(refuse_unread(req, e).await);
        }
    }
    let clear = resolution.clear_cookie;
    let mut response = match guarded(&app, route, req, client, resolution.caller).await {
        Ok(response) => response,
        Err(err) => {
            if matches!(
                err.kind,
                ErrorKind::NotLoggedIn | ErrorKind::Forbidden | ErrorKind::CsrfFailed
            ) {
                notify(
                    Severity::Info,
                    "access_refused",
                    format_args!("{} from {client}", err.kind.code()),
                );
            }
            response::error(&err)
        }
    };
    if clear && !response.headers().contains_key(SET_COOKIE) {
        if let Ok(value) = HeaderValue::from_str(&app.accounts.cookies.clear()) {
            response.headers_mut().insert(SET_COOKIE, value);
        }
    }
    Ok(response)
}

async fn guarded(
    app: &Arc<App>,
    route: Route,
    mut req: Request<Incoming>,
    client: IpAddr,
    caller: Option<Caller>,
) -> ApiResult<Response> {
    let app = app.clone();
    let csrf = match gate::check(&route, caller.as_ref(), req.method(), req.headers()) {
        Ok(csrf) => csrf,
        Err(e) => return Err(refuse_unread(req, e).await),
    };
    if let Some(csrf) = csrf {
        req.extensions_mut().insert(csrf);
    }
    if route.is_expensive() {
        if let Err(e) = app.antispam.spend(client) {
            return Err(refuse_unread(req, e).await);
        }
    }
    // Routes past the gate that need a caller have one.
    let user = || {
        caller.clone().ok_or_else(|| {
            ApiError::internal(
                "gate_let_through",
                "a private route was reached without a caller",
            )
        })
    };
    let headers = req.headers();
    let query = req.uri().query();
    match route {
        Route::Healthz => health::get(&app, headers).await,
        Route::ListBoards => boards::list(&app, headers, query).await,
        Route::GetBoard { board } => boards::get(&app, headers, query, board).await,
        Route::CreateThread { board } => {
            threads::create(&app, board, req, client, caller.as_ref()).await
        }
        Route::GetThread { board, thread } => {
            threads::get(&app, headers, query, board, thread).await
        }
        Route::CreateReply { board, thread } => {
            posts::create_reply(&app, board, thread, req, client, caller.as_ref()).await
        }
        Route::GetPost { board, no } => posts::get(&app, headers, query, board, no).await,
        Route::Catalog { board } => threads::catalog(&app, headers, query, board).await,
        Route::Index { board } => threads::index(&app, headers, query, board).await,
        Route::Archive { board } => threads::archive(&app, headers, query, board).await,
        Route::Captcha { board } => captcha::get(&app, query, board, client).await,
        Route::DeletePost { board, no } => posts::delete(&app, board, no, req, client).await,
        Route::Recent => posts::recent(&app, headers, query).await,
        Route::Live => live::subscribe(app.clone(), headers, query, client).await,
        Route::OpenApi => openapi::get(headers, query),
        // A query on a file is ignored, as a static file server would.
        Route::GetFile { tree, sha256, ext } => {
            files::serve::get(&app, headers, tree, sha256, ext).await
        }
        // The 4chan-compatible paths are static files there: a query is ignored here too.
        Route::FourBoards => fourchan::boards(&app, headers).await,
        Route::FourThreadList { board } => fourchan::thread_list(&app, headers, board).await,
        Route::FourCatalog { board } => fourchan::catalog(&app, headers, board).await,
        Route::FourArchive { board } => fourchan::archive(&app, headers, board).await,
        Route::FourIndex { board, page } => fourchan::index(&app, headers, board, page).await,
        Route::FourThread { board, thread } => fourchan::thread(&app, headers, board, thread).await,
        Route::FourFile {
            board,
            tim,
            ext,
            thumb,
        } => fourchan::file(&app, board, tim, ext, thumb).await,
        Route::WebPage { page } => Ok(app.web.page(headers, &page)),
        Route::WebAsset { name } => app.web.asset(headers, &name),
        Route::Signup => auth::signup(&app, req, client).await,
        Route::Login => auth::login(&app, req, client).await,
        Route::Csrf => auth::csrf(caller.as_ref(), query),
        Route::Logout => auth::logout(&app, &user()?, req).await,
        Route::Destroy => auth::destroy(&app, &user()?, req, client).await,
        Route::ChangePassword => auth::change_password(&app, &user()?, req, client).await,
        Route::ListUsers => users::list(&app, query).await,
        Route::SetUserRole { username } => users::set_role(&app, &user()?, username, req).await,
        Route::SetUserDisabled { username } => {
            users::set_disabled(&app, &user()?, username, req).await
        }
        Route::TotpEnrol => totp::enrol(&app, &user()?, req).await,
        Route::TotpConfirm => totp::confirm(&app, &user()?, req, client).await,
        Route::TotpDisable => totp::disable(&app, &user()?, req, client).await,
        Route::IssueReset { username } => recovery::issue(&app, &user()?, username, req).await,
        Route::ResetPassword => recovery::reset(&app, req).await,
        Route::Recover => recovery::recover(&app, req, client).await,
        Route::GetEmail => email::get(&app, &user()?, query).await,
        Route::SetEmail => email::set(&app, &user()?, req, client).await,
        Route::ClearTotp { username } => users::clear_totp(&app, &user()?, username, req).await,
        Route::AdminListBoards => admin::boards::list(&app, query).await,
        Route::AdminStats => admin::stats::get(&app, query).await,
        Route::AdminCreateBoard => admin::boards::create(&app, req, &user()?).await,
        Route::AdminGetBoard { board } => admin::boards::get(&app, query, board).await,
        Route::AdminUpdateBoard { board } => {
            admin::boards::update(&app, req, board, &user()?).await
        }
        Route::AdminDeleteBoard { board } => {
            admin::boards::delete(&app, req, board, &user()?).await
        }
        Route::ListTokens => tokens::list(&app, &user()?).await,
        Route::CreateToken => tokens::create(&app, &user()?, req).await,
        Route::RevokeToken { id } => tokens::revoke(&app, &user()?, id).await,
        Route::ReportPost { board, no } => reports::report(&app, board, no, req, client).await,
        Route::StaffDelete { board, no } => {
            moderation::staff_delete(&app, board, no, req, &user()?).await
        }
        Route::BoardReports { board } => reports::board_queue(&app, query, board, &user()?).await,
        Route::HandleReports { board, no } => reports::handle(&app, board, no, req, &user()?).await,
        Route::ListReports => reports::queue(&app, query, &user()?).await,
        Route::ReportCounts => reports::counts_route(&app, query, &user()?).await,
        Route::ReportsLive => live::subscribe_counts(app.clone(), query, &user()?, client).await,
        Route::ThreadPosters { board, thread } => {
            moderation::thread_posters(&app, query, board, thread, &user()?).await
        }
        Route::ModLog => modlog::staff(&app, query, &user()?).await,
        Route::PublicModLog { board } => modlog::public(&app, headers, query, board).await,
        Route::ThreadAction { board, thread, act } => {
            thread_actions::act(&app, &user()?, board, thread, act, req).await
        }
        Route::ListFileBans { board } => file_bans::list(&app, query, board).await,
        Route::CreateFileBan { board } => file_bans::create(&app, req, board, &user()?).await,
        Route::LiftFileBan { board, sha256 } => {
            file_bans::lift(&app, board, sha256, &user()?).await
        }
        Route::ListFilters { board } => filters::list(&app, query, board).await,
        Route::CreateFilter { board } => filters::create(&app, req, board, &user()?).await,
        Route::UpdateFilter { board, id } => filters::update(&app, req, board, id, &user()?).await,
        Route::DeleteFilter { board, id } => filters::delete(&app, board, id, &user()?).await,
        Route::ListBans => bans::list(&app, &user()?, query).await,
        Route::CreateBan => bans::create(&app, &user()?, req).await,
        Route::LiftBan { id } => bans::lift(&app, &user()?, id, req).await,
        Route::MyBans => bans::mine(&app, query, client).await,
        Route::AppealBan { id } => bans::appeal(&app, id, req, client).await,
        Route::ListAppeals => bans::appeals(&app, &user()?, query).await,
        Route::AnswerAppeal { id, accept } => bans::answer(&app, &user()?, id, accept, req).await,
        Route::BanPoster { board, no } => bans::ban_poster(&app, &user()?, board, no, req).await,
    }
}
