//! Staff tools on a moved thread: its open reports are in the new board's queue under the new
//! numbers and can be handled there, deletion by poster finds the poster's posts (with the
//! cloak of the new board, so with the poster's other posts there), and a ban from a moved
//! post bans its poster.

use crate::admin_boards::staff;

use super::*;

const SPAMMER: &str = "203.0.113.66";
const REPORTER: &str = "198.51.100.7";
const BYSTANDER: &str = "192.0.2.1";

/// The numbers of a thread's posts, in order.
async fn posts_of(s: &Server, board: &str, thread: u64) -> Vec<u64> {
    let r = s
        .get(&format!("/api/boards/{board}/threads/{thread}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["thread"]["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["no"].as_u64().unwrap())
        .collect()
}

/// Moves `board`/`thread` to /u/ as `who`; the thread's new number.
async fn move_to_u(s: &Server, who: &Session, board: &str, thread: u64) -> u64 {
    let path = format!("/api/boards/{board}/threads/{thread}/move");
    let r = who.post(s, &path, json!({"board": "u"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["thread"]["no"].as_u64().unwrap()
}

#[tokio::test]
async fn a_moved_posts_reports_are_queued_and_handled_on_its_new_board() {
    let s = Server::with_config(&config("")).await;
    let root = admin(&s).await;
    let both = staff(&s, &root, "both", "board_mod", &["t", "u"]).await;
    let u_jan = staff(&s, &root, "ulla", "janitor", &["u"]).await;
    thread_from(&s, BYSTANDER, "u", "already on u").await;
    let op = thread_from(&s, BYSTANDER, "t", "a thread").await;
    let spam = reply_from(&s, SPAMMER, "t", op, "buy now").await;
    let r = report_from(&s, REPORTER, "t", spam, json!({"category": "spam"})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    report_from(&s, BYSTANDER, "t", spam, json!({"category": "rule"})).await;
    assert_eq!(both.get(&s, "/api/reports/counts").await.json["total"], 1);

    let moved = move_to_u(&s, &both, "t", op).await;
    let nos = posts_of(&s, "u", moved).await;
    let new_spam = nos[1];
    assert_ne!(new_spam, spam);

    // /t/'s queue is empty; /u/'s lists the post under its new number, its reports kept.
    let t = both.get(&s, "/api/boards/t/reports").await;
    assert_eq!(t.json, json!({"reports": [], "count": 0}));
    let u = u_jan.get(&s, "/api/boards/u/reports").await;
    assert_eq!(u.status, 200, "{}", u.json);
    assert_eq!(u.json["count"], 1);
    let queued = &u.json["reports"][0];
    assert_eq!(queued["board"], "u");
    assert_eq!(queued["no"], new_spam);
    assert_eq!(queued["thread"], moved);
    assert_eq!(queued["count"], 2);
    assert_eq!(queued["post"]["body"], "buy now");
    assert_eq!(queued["reports"].as_array().unwrap().len(), 2);
    let badge = both.get(&s, "/api/reports/counts").await;
    assert_eq!(badge.json, json!({"counts": {"t": 0, "u": 1}, "total": 1}));
    // A reporter is still one reporter of the post on its new board.
    report_from(&s, REPORTER, "u", new_spam, json!({"category": "spam"}))
        .await
        .assert_error(409, "already_reported");

    // /u/'s janitor handles it there.
    let r = u_jan
        .post(
            &s,
            &format!("/api/boards/u/reports/{new_spam}"),
            json!({"action": "delete", "reason": "Spam"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["handled"]["reports"], 2);
    assert_eq!(r.json["handled"]["deleted"], json!([new_spam]));
    assert!(!exists(&s, "u", new_spam).await);
    let u = u_jan.get(&s, "/api/boards/u/reports").await;
    assert_eq!(u.json, json!({"reports": [], "count": 0}));
    assert_eq!(both.get(&s, "/api/reports/counts").await.json["total"], 0);
}

#[tokio::test]
async fn deletion_by_poster_and_bans_reach_a_moved_threads_posters() {
    let s = Server::with_config(&config("")).await;
    let root = admin(&s).await;
    let both = staff(&s, &root, "both", "board_mod", &["t", "u"]).await;
    let elsewhere = thread_from(&s, SPAMMER, "u", "the spammer on u").await;
    let op = thread_from(&s, BYSTANDER, "t", "a thread").await;
    reply_from(&s, SPAMMER, "t", op, "spam 1").await;
    reply_from(&s, BYSTANDER, "t", op, "fine").await;
    reply_from(&s, SPAMMER, "t", op, "spam 2").await;
    let unrelated = thread_from(&s, SPAMMER, "t", "the spammer stays on t").await;

    let moved = move_to_u(&s, &both, "t", op).await;
    let nos = posts_of(&s, "u", moved).await;
    let (a1, b1, a2) = (nos[1], nos[2], nos[3]);
    // Staff see the posters under the new numbers, with the cloaks of /u/.
    let posters = both
        .get(&s, &format!("/api/boards/u/threads/{moved}/posters"))
        .await;
    assert_eq!(posters.status, 200, "{}", posters.json);
    let map = posters.json["posters"].as_object().unwrap();
    assert_eq!(map.len(), 4, "{map:?}");
    let cloak = |no: u64| map[&no.to_string()]["cloak"].as_str().unwrap().to_owned();
    assert_eq!(cloak(a1), cloak(a2));
    assert_ne!(cloak(a1), cloak(b1));
    let own = both
        .get(&s, &format!("/api/boards/u/threads/{elsewhere}/posters"))
        .await;
    assert_eq!(
        own.json["posters"][elsewhere.to_string()]["cloak"].as_str(),
        Some(cloak(a1).as_str()),
        "one poster, one cloak on /u/"
    );

    // In the thread: the spammer's two moved posts.
    let r = both
        .post(
            &s,
            &format!("/api/boards/u/posts/{a2}/staff-delete"),
            json!({"scope": "poster_thread"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["deleted"]["nos"], json!([a1, a2]));
    assert!(exists(&s, "u", b1).await);
    assert!(exists(&s, "u", elsewhere).await);
    assert!(
        exists(&s, "t", unrelated).await,
        "the old board is untouched"
    );

    // A ban from a moved post bans its poster.
    let r = both
        .post(
            &s,
            &format!("/api/boards/u/posts/{b1}/ban"),
            json!({"duration": 3600, "reason": "off topic", "mark": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["ban"]["post"], json!({"board": "u", "no": b1}));
    let path = format!("/api/boards/u/threads/{moved}/posts");
    let again = s
        .send(from(&s, BYSTANDER, &path).json(&json!({"body": "still here"})))
        .await;
    again.assert_error(403, "banned");
    let marked = s.get(&format!("/api/boards/u/posts/{b1}")).await;
    assert_eq!(
        marked.json["post"]["banned_message"],
        "(USER WAS BANNED FOR THIS POST)"
    );
}
