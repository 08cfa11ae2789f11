//! Addresses are erased after `ip_retention_days` (here about two seconds): the posters route
//! then shows each post's cloak and no address, and deleting by poster still works.

use std::time::Duration;

use super::*;

/// Asks until `done` holds for the reply, for at most a minute: the erasure runs in the
/// background, so the test waits for its effect rather than for a time.
async fn wait_for(s: &Server, who: &Session, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let r = who.get(s, path).await;
        assert_eq!(r.status, 200, "{}", r.json);
        if done(&r.json) {
            return r.json;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never reached the expected state");
}

#[tokio::test]
async fn addresses_are_erased_after_the_retention_and_cloaks_stay() {
    let s = Server::with_config(&config("ip_retention_days = 0.00002")).await;
    let (root, jan, _) = team(&s).await;
    let op = thread_from(&s, "203.0.113.66", "t", "soon anonymous").await;
    let reply = reply_from(&s, "203.0.113.66", "t", op, "me again").await;
    let report = report_from(&s, "198.51.100.7", "t", op, json!({"category": "spam"})).await;
    assert_eq!(report.status, 201);

    let path = format!("/api/boards/t/threads/{op}/posters");
    let before = root.get(&s, &path).await;
    let cloak = before.json["posters"][op.to_string()]["cloak"].clone();
    assert!(cloak.is_string());
    let erased = wait_for(&s, &root, &path, |json| {
        json["posters"]
            .as_object()
            .unwrap()
            .values()
            .all(|p| p.get("address").is_none())
    })
    .await;
    assert_eq!(
        erased["posters"],
        json!({ op.to_string(): {"cloak": cloak}, reply.to_string(): {"cloak": cloak} })
    );
    let queue = wait_for(&s, &root, "/api/boards/t/reports", |json| {
        json["reports"][0]["reports"][0].get("address").is_none()
    })
    .await;
    assert!(queue["reports"][0]["reports"][0]["cloak"].is_string());

    // The cloak is all it takes to delete every post of the poster.
    let r = jan
        .post(
            &s,
            &format!("/api/boards/t/posts/{reply}/staff-delete"),
            json!({"scope": "poster_board"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["deleted"]["nos"], json!([op]));
    assert!(!exists(&s, "t", reply).await);
    assert_eq!(jan.get(&s, "/api/reports/counts").await.json["total"], 0);
}

#[tokio::test]
async fn a_thread_moved_after_the_erasure_keeps_its_cloaks_and_its_poster_can_be_banned() {
    let s = Server::with_config(&config("ip_retention_days = 0.00002")).await;
    let root = admin(&s).await;
    let both = crate::admin_boards::staff(&s, &root, "both", "board_mod", &["t", "u"]).await;
    let poster = "203.0.113.66";
    let op = thread_from(&s, "192.0.2.1", "t", "a thread").await;
    let reply = reply_from(&s, poster, "t", op, "spam").await;
    let r = report_from(&s, "198.51.100.7", "t", reply, json!({"category": "spam"})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let path = format!("/api/boards/t/threads/{op}/posters");
    let erased = wait_for(&s, &root, &path, |json| {
        json["posters"]
            .as_object()
            .unwrap()
            .values()
            .all(|p| p.get("address").is_none())
    })
    .await;
    let cloak = erased["posters"][reply.to_string()]["cloak"].clone();
    wait_for(&s, &root, "/api/boards/t/reports", |json| {
        json["reports"][0]["reports"][0].get("address").is_none()
    })
    .await;

    let r = both
        .post(
            &s,
            &format!("/api/boards/t/threads/{op}/move"),
            json!({"board": "u"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let moved = r.json["thread"]["no"].as_u64().unwrap();
    let new_reply = moved + 1;
    // The cloak of /t/ stays, and says so: it cannot be made for /u/ without the address.
    let posters = both
        .get(&s, &format!("/api/boards/u/threads/{moved}/posters"))
        .await;
    assert_eq!(
        posters.json["posters"][new_reply.to_string()],
        json!({"cloak": cloak, "cloak_board": "t"})
    );
    let queue = both.get(&s, "/api/boards/u/reports").await;
    assert_eq!(queue.json["reports"][0]["no"], new_reply);
    assert_eq!(queue.json["reports"][0]["reports"][0]["cloak_board"], "t");

    // A ban from the moved post, on /u/, is a ban of that /t/ cloak that holds on /u/.
    let r = both
        .post(
            &s,
            &format!("/api/boards/u/posts/{new_reply}/ban"),
            json!({"duration": 3600, "reason": "spam"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["ban"]["kind"], "cloak");
    assert_eq!(r.json["ban"]["cloak"], cloak);
    assert_eq!(r.json["ban"]["cloak_board"], "t");
    assert_eq!(r.json["ban"]["board"], "u");
    let body = json!({"body": "spam again"});
    s.send(from(&s, poster, "/api/boards/u/threads").json(&body))
        .await
        .assert_error(403, "banned");
    let elsewhere = s
        .send(from(&s, poster, "/api/boards/t/threads").json(&body))
        .await;
    assert_eq!(
        elsewhere.status, 201,
        "the ban is on /u/: {}",
        elsewhere.json
    );
}
