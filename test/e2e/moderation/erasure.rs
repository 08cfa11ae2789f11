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
