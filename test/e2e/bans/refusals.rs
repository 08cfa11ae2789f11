//! Every ban route refuses what it must, and a refusal changes nothing.

use reqwest::Method;
use serde_json::json;

use super::*;

#[tokio::test]
async fn ban_routes_refuse_callers_without_the_right() {
    let s = Server::with_config(&config()).await;
    let staff = team(&s).await;
    let plain = Session::signup(&s, "pat", crate::session::PASSWORD).await;
    let good = json!({"address": "192.0.2.1", "board": "t", "duration": 60, "reason": "spam"});

    // No session at all.
    s.post("/api/bans", good.clone())
        .await
        .assert_error(403, "not_logged_in");
    s.get("/api/bans").await.assert_error(403, "not_logged_in");
    s.get("/api/bans/appeals")
        .await
        .assert_error(403, "not_logged_in");
    s.post("/api/bans/1/lift", json!({}))
        .await
        .assert_error(403, "not_logged_in");
    s.post("/api/bans/1/appeal/accept", json!({}))
        .await
        .assert_error(403, "not_logged_in");
    // A user and a janitor have no ban rights, even on the janitor's board.
    for who in [&plain, &staff.t_janitor] {
        who.post(&s, "/api/bans", good.clone())
            .await
            .assert_error(403, "forbidden");
        who.get(&s, "/api/bans?board=t")
            .await
            .assert_error(403, "forbidden");
        who.get(&s, "/api/bans/appeals")
            .await
            .assert_error(403, "forbidden");
    }
    // Another board's moderator, and a board moderator giving a global ban.
    let r = staff.u_mod.post(&s, "/api/bans", good.clone()).await;
    r.assert_error(403, "forbidden");
    let global = json!({"address": "192.0.2.1", "global": true, "duration": 60, "reason": "x"});
    let r = staff.t_mod.post(&s, "/api/bans", global.clone()).await;
    r.assert_error(403, "forbidden");
    staff
        .u_mod
        .get(&s, "/api/bans?board=t")
        .await
        .assert_error(403, "forbidden");
    staff
        .t_mod
        .get(&s, "/api/bans")
        .await
        .assert_error(403, "forbidden");
    staff
        .t_mod
        .get(&s, "/api/bans?board=global")
        .await
        .assert_error(403, "forbidden");
    // Only admins search by address.
    let r = staff.global.get(&s, "/api/bans?address=192.0.2.1").await;
    r.assert_error(403, "forbidden");
    // A session without its CSRF token.
    let r = staff
        .root
        .post_csrf(&s, "/api/bans", None, good.clone())
        .await;
    r.assert_error(403, "csrf_failed");

    // A ban on /t/ that /u/'s moderator may neither lift nor answer.
    let given = ban(&s, &staff.t_mod, good.clone()).await;
    let id = given["id"].as_u64().unwrap();
    assert_eq!(given["address"], Value::Null, "only admins see addresses");
    let lift = format!("/api/bans/{id}/lift");
    staff
        .u_mod
        .post(&s, &lift, json!({}))
        .await
        .assert_error(403, "forbidden");
    staff
        .t_janitor
        .post(&s, &lift, json!({}))
        .await
        .assert_error(403, "forbidden");
    let accept = format!("/api/bans/{id}/appeal/accept");
    staff
        .u_mod
        .post(&s, &accept, json!({}))
        .await
        .assert_error(403, "forbidden");
    // A global ban cannot be lifted by a board moderator.
    let g = ban(&s, &staff.global, global).await;
    let lift_g = format!("/api/bans/{}/lift", g["id"]);
    staff
        .t_mod
        .post(&s, &lift_g, json!({}))
        .await
        .assert_error(403, "forbidden");

    // Both bans still stand: /t/'s moderator sees its own, the admin both with addresses.
    let r = staff.t_mod.get(&s, "/api/bans?board=t").await;
    assert_eq!(r.json["bans"].as_array().unwrap().len(), 1, "{}", r.json);
    let r = staff.root.get(&s, "/api/bans").await;
    let bans = r.json["bans"].as_array().unwrap();
    assert_eq!(bans.len(), 2, "{}", r.json);
    assert_eq!(bans[0]["address"], "192.0.2.1");
    assert_eq!(bans[0]["board"], Value::Null);
}

#[tokio::test]
async fn malformed_bans_are_refused_and_change_nothing() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let with = |extra: Value| {
        let mut body =
            json!({"address": "10.0.0.0/8", "board": "t", "duration": 60, "reason": "r"});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        (
            json!({"address": "10.0.0.0/33"}),
            400,
            "invalid_value",
            "address",
        ),
        (
            json!({"address": "::/129"}),
            400,
            "invalid_value",
            "address",
        ),
        (
            json!({"address": "10.0.0.0/-1"}),
            400,
            "invalid_value",
            "address",
        ),
        (
            json!({"address": "10.0.0"}),
            400,
            "invalid_value",
            "address",
        ),
        (
            json!({"address": "example.com"}),
            400,
            "invalid_value",
            "address",
        ),
        (json!({"address": 7}), 400, "invalid_type", "address"),
        (json!({"duration": -5}), 400, "out_of_range", "duration"),
        (json!({"duration": 0}), 400, "out_of_range", "duration"),
        (json!({"duration": 1.5}), 400, "out_of_range", "duration"),
        (
            json!({"duration": 1_000_000_000_000u64}),
            400,
            "out_of_range",
            "duration",
        ),
        (
            json!({"duration": "forever"}),
            400,
            "invalid_type",
            "duration",
        ),
        (json!({"duration": null}), 400, "missing_field", "duration"),
        (json!({"reason": null}), 400, "missing_field", "reason"),
        (json!({"reason": "  "}), 400, "empty", "reason"),
        (
            json!({"reason": "a\u{0}b"}),
            400,
            "control_characters",
            "reason",
        ),
        (
            json!({"reason": "x".repeat(501)}),
            400,
            "too_long",
            "reason",
        ),
        (json!({"note": "x".repeat(2001)}), 400, "too_long", "note"),
        (
            json!({"cloak": "abcdefghijkl"}),
            400,
            "invalid_value",
            "cloak",
        ),
        (
            json!({"address": null, "cloak": "short"}),
            400,
            "invalid_value",
            "cloak",
        ),
        (json!({"address": null}), 400, "missing_field", "address"),
        (json!({"board": null}), 400, "missing_field", "board"),
        (json!({"global": true}), 400, "invalid_value", "board"),
        (json!({"global": "yes"}), 400, "invalid_type", "global"),
        (json!({"mark": true}), 400, "missing_field", "post"),
        (json!({"post": {"board": "t"}}), 400, "invalid_type", "post"),
        (
            json!({"post": {"board": "t", "no": 0}}),
            400,
            "invalid_type",
            "post",
        ),
        (
            json!({"post": {"board": "t", "no": 1}, "mark": 3}),
            400,
            "invalid_type",
            "mark",
        ),
        (json!({"expires": 3}), 400, "unknown_field", "expires"),
        (json!({"board": "zz"}), 404, "board_not_found", ""),
        (
            json!({"post": {"board": "t", "no": 99}, "mark": true}),
            404,
            "post_not_found",
            "",
        ),
    ];
    for (extra, status, code, field) in cases {
        let body = with(extra.clone());
        let r = root.post(&s, "/api/bans", body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "{extra}: {}",
            r.json
        );
        assert_eq!(r.field(), field, "{extra}: {}", r.json);
    }
    // Malformed queries and paths.
    for path in [
        "/api/bans?limit=0",
        "/api/bans?limit=101",
        "/api/bans?address=nope",
        "/api/bans?cloak=bad",
        "/api/bans?address=10.0.0.1&cloak=abcdefghijkl",
        "/api/bans?x=1",
        "/api/bans/mine?x=1",
    ] {
        root.get(&s, path).await.assert_error(400, "invalid_query");
    }
    let r = root.post(&s, "/api/bans/abc/lift", json!({})).await;
    r.assert_error(400, "invalid_path");
    // Nothing was banned: the address posts.
    assert_eq!(
        thread_from(&s, "10.1.2.3", "t", "still here").await.status,
        201
    );
    let r = root.get(&s, "/api/bans").await;
    assert_eq!(r.json["bans"], json!([]));
}

#[tokio::test]
async fn forged_ids_and_wrong_appeals_are_refused() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    for path in ["/api/bans/999/lift", "/api/bans/999/appeal/accept"] {
        root.post(&s, path, json!({}))
            .await
            .assert_error(404, "ban_not_found");
    }
    let r = root
        .post(&s, "/api/bans/999/appeal/deny", json!({"answer": "no"}))
        .await;
    r.assert_error(404, "ban_not_found");
    appeal_from(&s, "192.0.2.1", 999, "let me in")
        .await
        .assert_error(404, "ban_not_found");

    let banned = "198.51.100.20";
    let given = ban(
        &s,
        &root,
        json!({"address": banned, "board": "t", "duration": 3600, "reason": "flooding"}),
    )
    .await;
    let id = given["id"].as_u64().unwrap();
    // Another address cannot appeal it, and learns nothing of it.
    let r = appeal_from(&s, "198.51.100.21", id, "unfair").await;
    r.assert_error(404, "ban_not_found");
    // Malformed appeals.
    let req = s
        .client
        .post(s.url(&format!("/api/bans/{id}/appeal")))
        .header("x-forwarded-for", banned);
    let r = s.send(req.json(&json!({"text": ""}))).await;
    r.assert_error(400, "empty");
    let req = s
        .client
        .post(s.url(&format!("/api/bans/{id}/appeal")))
        .header("x-forwarded-for", banned);
    let r = s.send(req.json(&json!({"text": "x".repeat(2001)}))).await;
    r.assert_error(400, "too_long");
    // No appeal yet: nothing to answer.
    let accept = format!("/api/bans/{id}/appeal/accept");
    root.post(&s, &accept, json!({}))
        .await
        .assert_error(409, "appeal_not_open");
    // One appeal, not two.
    assert_eq!(
        appeal_from(&s, banned, id, "I was not flooding")
            .await
            .status,
        201
    );
    let r = appeal_from(&s, banned, id, "please").await;
    r.assert_error(409, "appeal_exists");
    // A denial needs an answer.
    let deny = format!("/api/bans/{id}/appeal/deny");
    root.post(&s, &deny, json!({}))
        .await
        .assert_error(400, "missing_field");
    let r = s
        .send(
            root.request(&s, Method::POST, &deny)
                .json(&json!({"answer": 5})),
        )
        .await;
    r.assert_error(400, "invalid_type");
    // The appeal is still open, unanswered.
    let me = mine(&s, banned).await;
    assert_eq!(me["bans"][0]["appeal"]["status"], "open", "{me}");
    assert_eq!(me["bans"][0]["appeal"]["text"], "I was not flooding");
}
