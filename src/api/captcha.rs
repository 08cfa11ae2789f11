//! A board's captcha challenge, fetched before posting (`crate::antispam` holds the rules).

use std::net::IpAddr;
use std::time::Instant;

use crate::app::App;
use crate::error::ApiResult;
use crate::http::request::query;
use crate::http::{response, Response};

/// `GET /api/boards/{board}/captcha` → 200 `{"mode":"off"}` when posts on the board need no
/// captcha now; `{"mode":"pow","id","bits","expires_at"}` for a proof of work (find a decimal
/// nonce whose `SHA-256(id ":" nonce)` starts with `bits` zero bits); `{"mode":"text","id",
/// "image","width","height","expires_at"}` for a picture of characters (`image` is a PNG data
/// URL). The challenge is single-use, bound to the board and the client's network. 429
/// `rate_limited` past `challenges_per_address_per_minute`.
pub async fn get(
    app: &App,
    raw_query: Option<&str>,
    board: String,
    client: IpAddr,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let board = app.board(&board).await?;
    // Drawing a text picture takes a millisecond or so of CPU: off the async workers.
    let body = tokio::task::block_in_place(|| app.captchas.issue(&board, client, Instant::now()))?;
    Ok(response::ok_json(&body))
}
