//! Boards: listing them and reading one board's settings.

use crate::http::response;
use hyper::HeaderMap;

use crate::app::App;
use crate::cache::{Group, Key};
use crate::error::ApiResult;
use crate::http::request::query;
use crate::http::Response;

/// `GET /api/boards` → `{"boards":[Board]}`.
pub async fn list(app: &App, headers: &HeaderMap, raw_query: Option<&str>) -> ApiResult<Response> {
    query(raw_query, &[])?;
    app.cached_get(headers, Key::Boards, |r| {
        let body = response::envelope("boards", &r.boards()?);
        Ok((Group::Boards, body))
    })
    .await
}

/// `GET /api/boards/{board}` → `{"board":Board}`.
pub async fn get(
    app: &App,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    board: String,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    app.cached_get(headers, Key::Board(board.clone()), move |r| {
        let found = r.require_board(&board)?;
        let body = response::envelope("board", &found);
        Ok((Group::Board(board), body))
    })
    .await
}
