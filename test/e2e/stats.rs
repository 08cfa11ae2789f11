//! `GET /api/admin/stats`: who may read it, then what it shows after posts, files, reports,
//! deletions, a live reader and a restart, all made through HTTP.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::admin_boards::{admin, config, staff};
use crate::harness::*;
use crate::session::{Session, PASSWORD};
use crate::uploads::{form, png, upload};

const STATS: &str = "/api/admin/stats";

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The board's entry of the answer.
fn board<'a>(stats: &'a Value, slug: &str) -> &'a Value {
    stats["boards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["board"] == slug)
        .unwrap_or_else(|| panic!("no /{slug}/ in {stats}"))
}

/// `(posts, threads)` summed over a board's hours or days.
fn total(buckets: &Value) -> (u64, u64) {
    buckets
        .as_array()
        .unwrap()
        .iter()
        .fold((0, 0), |(p, t), b| {
            (
                p + b["posts"].as_u64().unwrap(),
                t + b["threads"].as_u64().unwrap(),
            )
        })
}

/// `(posts, threads)` of the bucket starting at `at`.
fn at(buckets: &Value, at: u64) -> (u64, u64) {
    let b = buckets
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["at"] == at)
        .unwrap_or_else(|| panic!("no bucket at {at} in {buckets}"));
    (b["posts"].as_u64().unwrap(), b["threads"].as_u64().unwrap())
}

async fn stats(s: &Server, admin: &Session) -> Value {
    let r = admin.get(s, STATS).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.header("cache-control"), "no-store");
    r.json
}

#[tokio::test]
async fn only_admins_read_the_stats() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    s.get(STATS).await.assert_error(403, "not_logged_in");
    let plain = Session::signup(&s, "plain", PASSWORD).await;
    plain.get(&s, STATS).await.assert_error(403, "forbidden");
    for role in ["janitor", "board_mod", "global_mod"] {
        let name = format!("a{}", role.replace('_', ""));
        let boards: &[&str] = if role == "global_mod" { &[] } else { &["t"] };
        let who = staff(&s, &root, &name, role, boards).await;
        who.get(&s, STATS).await.assert_error(403, "forbidden");
    }
    root.get(&s, &format!("{STATS}?board=t"))
        .await
        .assert_error(400, "invalid_query");
    let r = s.request("POST", STATS).await;
    assert_eq!(r.status, 405, "{}", r.json);
}

/// Posts land in their board's bucket for the hour and day they were made; a deleted post still
/// counts (the charts show what was posted) while its file leaves the totals; reports and live
/// readers show; everything but the live readers survives a restart.
#[tokio::test]
async fn posts_files_reports_and_readers_show() {
    let mut s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let fresh = stats(&s, &root).await;
    for slug in ["t", "u"] {
        let b = board(&fresh, slug);
        assert_eq!(b["hours"].as_array().unwrap().len(), 24);
        assert_eq!(b["days"].as_array().unwrap().len(), 30);
        assert_eq!((total(&b["hours"]), total(&b["days"])), ((0, 0), (0, 0)));
    }
    assert_eq!(fresh["files"], json!({"stored": 0, "bytes": 0}));
    assert_eq!(fresh["reports"]["waiting"], 0);
    assert_eq!(fresh["live"]["subscribers"], 0);
    assert_eq!(fresh["backup"]["enabled"], false);
    let disk = &fresh["disk"];
    assert!(disk["free_bytes"].as_u64().unwrap() > 0, "{disk}");
    assert!(disk["free_bytes"].as_u64() <= disk["total_bytes"].as_u64());
    assert_eq!(fresh["notices"]["hours"].as_array().unwrap().len(), 24);

    let before = unix_now();
    let op = s.thread("t", "first").await;
    s.reply("t", op, json!({"body": "second"})).await;
    let image = png(64, 48, [200, 40, 40]);
    let (with_file, post) = upload(
        &s,
        &format!("/api/boards/t/threads/{op}/posts"),
        form(Some("a picture"), vec![(image, "red.png")]),
    )
    .await;
    let size = post["files"][0]["size"].as_u64().unwrap();
    s.thread("u", "elsewhere").await;
    let after = unix_now();

    let shown = stats(&s, &root).await;
    let now = shown["now"].as_u64().unwrap();
    assert!((after..after + 60).contains(&now), "{now} after {after}");
    let (t, u) = (board(&shown, "t"), board(&shown, "u"));
    assert_eq!(total(&t["hours"]), (3, 1));
    assert_eq!(total(&u["hours"]), (1, 1));
    assert_eq!(total(&t["days"]), (3, 1));
    let hour = |time: u64| time / 3600 * 3600;
    if hour(before) == hour(now) {
        assert_eq!(
            at(&t["hours"], hour(now)),
            (3, 1),
            "all in the current hour"
        );
        assert_eq!(at(&u["hours"], hour(now)), (1, 1));
    }
    if before / 86_400 == now / 86_400 {
        assert_eq!(at(&t["days"], now / 86_400 * 86_400), (3, 1), "all today");
    }
    assert_eq!(shown["files"], json!({"stored": 1, "bytes": size}));

    let r = s
        .post(
            &format!("/api/boards/t/posts/{with_file}/report"),
            json!({"category": "spam"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let live = s
        .client
        .get(s.url("/api/live?board=t"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let shown = stats(&s, &root).await;
    assert_eq!(shown["reports"]["waiting"], 1);
    assert_eq!(shown["live"]["subscribers"], 1);

    let r = root
        .post(
            &s,
            &format!("/api/boards/t/posts/{with_file}/staff-delete"),
            json!({"scope": "post", "reason": "spam"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let shown = stats(&s, &root).await;
    assert_eq!(
        total(&board(&shown, "t")["hours"]),
        (3, 1),
        "a deleted post still counts"
    );
    assert_eq!(shown["files"], json!({"stored": 0, "bytes": 0}));
    assert_eq!(shown["reports"]["waiting"], 0, "its report went with it");
    drop(live);

    s.stop();
    s.restart();
    let root = Session::login(&s, "root", PASSWORD).await;
    let shown = stats(&s, &root).await;
    assert_eq!(total(&board(&shown, "t")["days"]), (3, 1));
    assert_eq!(total(&board(&shown, "u")["days"]), (1, 1));
    assert_eq!(shown["live"]["subscribers"], 0);
}
