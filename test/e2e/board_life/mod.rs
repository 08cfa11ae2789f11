//! Life on a board after posting: markup and backlinks, names with tripcodes and poster ids,
//! e-mail and password fields, self-deletion and what it removes, the archive, recent posts
//! across boards, and the board options that steer them.

pub use std::path::PathBuf;

pub use serde_json::{json, Value};

pub use crate::harness::*;
pub use crate::uploads::{
    assert_no_mismatches, form, jpeg, mismatch, only_file, png, post, replies, thread, threads,
    upload, Form,
};
pub use crate::validation::refused;

mod archive;
mod dead_links;
mod deletion;
mod identity;
mod markup;
mod options;
mod recent;

/// One `[[boards]]` table with a slug, a title and these extra lines.
pub fn board(slug: &str, options: &str) -> String {
    format!("[[boards]]\nslug = \"{slug}\"\ntitle = \"Board {slug}\"\n{options}\n")
}

/// Boards /a/ and /c/ with the default options: for links across boards.
pub fn two_boards() -> String {
    board("a", "") + &board("c", "")
}

pub fn delete_path(board: &str, no: u64) -> String {
    format!("/api/boards/{board}/posts/{no}/delete")
}

/// `POST /api/boards/{board}/posts/{no}/delete` with this JSON body.
pub async fn delete(s: &Server, board: &str, no: u64, body: Value) -> Reply {
    s.post(&delete_path(board, no), body).await
}

/// Deletes a post that must be deletable with `password`.
pub async fn delete_ok(s: &Server, board: &str, no: u64, password: &str, file_only: bool) {
    let r = delete(
        s,
        board,
        no,
        json!({ "password": password, "file_only": file_only }),
    )
    .await;
    assert_eq!(r.status, 200, "deleting /{board}/{no}: {}", r.json);
    assert_eq!(
        r.json,
        json!({ "deleted": { "board": board, "no": no, "file_only": file_only } })
    );
}

/// Opens a thread with this JSON and returns its number.
pub async fn open(s: &Server, board: &str, body: Value) -> u64 {
    let r = s.post(&threads(board), body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["no"].as_u64().unwrap()
}

/// A JSON POST sent as if from `client` (through the trusted proxy on 127.0.0.1).
pub async fn post_from(s: &Server, path: &str, client: &str, body: Value) -> Reply {
    s.send(
        s.client
            .post(s.url(path))
            .header("x-forwarded-for", client)
            .json(&body),
    )
    .await
}

/// The `no` of each object in a JSON array.
#[track_caller]
pub fn numbers(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|p| p["no"].as_u64().unwrap())
        .collect()
}

/// The `html` of a post.
pub async fn html(s: &Server, board: &str, no: u64) -> String {
    post(s, board, no).await["html"]
        .as_str()
        .unwrap_or_else(|| panic!("/{board}/{no} has no html"))
        .to_owned()
}

/// The live threads of a board, from its catalog.
pub async fn catalog(s: &Server, board: &str) -> Vec<u64> {
    let r = s.get(&format!("/api/boards/{board}/catalog")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    numbers(&r.json["threads"])
}

/// The threads of a board's archive, in the order listed.
pub async fn archive(s: &Server, board: &str) -> Vec<u64> {
    let r = s.get(&format!("/api/boards/{board}/archive")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    numbers(&r.json["threads"])
}

/// The threads on every index page of a board.
pub async fn index(s: &Server, board: &str) -> Vec<u64> {
    let first = s.get(&format!("/api/boards/{board}/index")).await;
    assert_eq!(first.status, 200, "{}", first.json);
    let pages = first.json["pages"].as_u64().unwrap();
    let mut out = numbers(&first.json["threads"]);
    for page in 2..=pages {
        let r = s
            .get(&format!("/api/boards/{board}/index?page={page}"))
            .await;
        out.extend(numbers(&r.json["threads"]));
    }
    out
}

/// The two stored copies of an uploaded file (original and thumbnail), from its JSON entry.
pub fn stored_paths(s: &Server, file: &Value) -> [PathBuf; 2] {
    let url = file["url"].as_str().unwrap();
    let thumb = file["thumb_url"].as_str().unwrap();
    [
        s.data_dir().join(url.trim_start_matches('/')),
        s.data_dir().join(thumb.trim_start_matches('/')),
    ]
}

/// Both URLs of a file are served, and both copies are on disk.
pub async fn assert_file_kept(s: &Server, file: &Value, what: &str) {
    for url in [&file["url"], &file["thumb_url"]] {
        let url = url.as_str().unwrap();
        let (status, _, _) = s.get_bytes(url, &[]).await;
        assert_eq!(status, 200, "{what}: GET {url}");
    }
    for path in stored_paths(s, file) {
        assert!(path.is_file(), "{what}: {} is gone", path.display());
    }
}

/// Both URLs of a file answer 404 `file_not_found`, and neither copy is left on disk.
pub async fn assert_file_gone(s: &Server, file: &Value, what: &str) {
    for url in [&file["url"], &file["thumb_url"]] {
        let url = url.as_str().unwrap();
        let (status, _, body) = s.get_bytes(url, &[]).await;
        assert_eq!(status, 404, "{what}: GET {url}");
        let json: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{what}: GET {url}: 404 body is not JSON ({e})"));
        assert_eq!(json["error"]["code"], "file_not_found", "{what}: GET {url}");
    }
    for path in stored_paths(s, file) {
        assert!(
            !path.exists(),
            "{what}: {} is still on disk",
            path.display()
        );
    }
}

/// Every text a reader can fetch about a board: its catalog, every index page, these threads
/// and these posts (errors included), concatenated.
pub async fn everything_shown(s: &Server, board: &str, threads: &[u64], posts: &[u64]) -> String {
    let mut out = String::new();
    let mut paths = vec![
        format!("/api/boards/{board}/catalog"),
        format!("/api/boards/{board}/archive"),
        "/api/recent?limit=100".to_owned(),
    ];
    let pages = s.get(&format!("/api/boards/{board}/index")).await.json["pages"]
        .as_u64()
        .unwrap_or(1);
    paths.extend((1..=pages).map(|p| format!("/api/boards/{board}/index?page={p}")));
    paths.extend(
        threads
            .iter()
            .map(|t| format!("/api/boards/{board}/threads/{t}")),
    );
    paths.extend(
        posts
            .iter()
            .map(|p| format!("/api/boards/{board}/posts/{p}")),
    );
    for path in paths {
        let (_, _, body) = s.get_bytes(&path, &[]).await;
        out.push_str(&String::from_utf8_lossy(&body));
        out.push('\n');
    }
    out
}
