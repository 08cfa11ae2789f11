//! Bans that work: ranges, scope, expiry, the public mark, appeals, and a restart.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::uploads::{form, png};

#[tokio::test]
async fn range_bans_refuse_inside_and_not_outside() {
    let s = Server::with_config(&config()).await;
    let staff = team(&s).await;
    let v4 = ban(
        &s,
        &staff.t_mod,
        json!({"address": "203.0.113.0/24", "board": "t", "duration": 3600, "reason": "v4 spam"}),
    )
    .await;
    assert_eq!(v4["kind"], "range");
    let v6 = ban(
        &s,
        &staff.global,
        json!({"address": "2001:db8:aa::/48", "global": true, "duration": "permanent",
               "reason": "v6 spam", "note": "seen on three boards"}),
    )
    .await;
    assert_eq!(v6["expires_at"], Value::Null);
    assert_eq!(v6["note"], "seen on three boards", "staff see the note");

    let open = thread_from(&s, "192.0.2.50", "t", "an open thread").await;
    let thread = open.json["no"].as_u64().unwrap();
    let cases = [
        ("203.0.113.9", "t", Some(&v4)),
        ("203.0.113.255", "t", Some(&v4)),
        ("203.0.114.1", "t", None),
        // A board ban stays on its board.
        ("203.0.113.9", "u", None),
        ("2001:db8:aa:1234::1", "t", Some(&v6)),
        // A global ban applies everywhere.
        ("2001:db8:aa:ffff:1::9", "u", Some(&v6)),
        ("2001:db8:ab::1", "t", None),
        ("2001:db8:ab::1", "u", None),
    ];
    for (from, board, refused_by) in cases {
        let r = thread_from(&s, from, board, "hello").await;
        match refused_by {
            Some(by) => {
                r.assert_error(403, "banned");
                let told = &r.json["error"]["ban"];
                assert_eq!(told["id"], by["id"], "{from} on /{board}/");
                assert_eq!(told["reason"], by["reason"]);
                assert_eq!(told["board"], by["board"]);
                assert_eq!(told["expires_at"], by["expires_at"]);
                assert!(told.get("note").is_none(), "never the private note: {told}");
                let message = r.json["error"]["message"].as_str().unwrap();
                assert!(
                    message.contains(by["reason"].as_str().unwrap()),
                    "{message}"
                );
            }
            None => assert_eq!(r.status, 201, "{from} on /{board}/: {}", r.json),
        }
    }
    // Replies are refused too, JSON or multipart, and reading goes on as before.
    let r = reply_from(&s, "203.0.113.9", "t", thread, "a reply").await;
    r.assert_error(403, "banned");
    let multipart = s
        .client
        .post(s.url(&format!("/api/boards/t/threads/{thread}/posts")))
        .header("x-forwarded-for", "203.0.113.9")
        .multipart(form(
            Some("with a file"),
            vec![(png(32, 32, [1, 2, 3]), "a.png")],
        ));
    s.send(multipart).await.assert_error(403, "banned");
    let r = s
        .get_with(
            &format!("/api/boards/t/threads/{thread}"),
            &[("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["thread"]["posts"].as_array().unwrap().len(), 1);
    assert!(
        s.stored_files().is_empty(),
        "a banned poster's file is never stored"
    );

    // What the banned client is told, and the admin's search by address.
    let me = mine(&s, "203.0.113.9").await;
    assert_eq!(me["banned"], true);
    assert_eq!(me["bans"][0]["id"], v4["id"]);
    assert!(me["bans"][0].get("note").is_none() && me["bans"][0].get("by").is_none());
    assert_eq!(
        mine(&s, "203.0.114.1").await,
        json!({"banned": false, "bans": []})
    );
    let r = staff.root.get(&s, "/api/bans?address=2001:db8:aa::7").await;
    assert_eq!(r.json["bans"][0]["id"], v6["id"], "{}", r.json);
    assert_eq!(r.json["bans"][0]["address"], "2001:db8:aa::/48");
    assert_eq!(r.json["bans"].as_array().unwrap().len(), 1);

    // Lifting ends a ban at once; the lift and the ban are in the staff log of /t/.
    let lift = format!("/api/bans/{}/lift", v4["id"]);
    let r = staff
        .t_mod
        .post(&s, &lift, json!({"note": "wrong network"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        thread_from(&s, "203.0.113.9", "t", "back").await.status,
        201
    );
    staff
        .t_mod
        .post(&s, &lift, json!({}))
        .await
        .assert_error(404, "ban_not_found");
}

#[tokio::test]
async fn an_expired_ban_lets_the_poster_post_again() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let given = ban(
        &s,
        &root,
        // Three seconds, not one: expiry is counted in whole seconds, and on a loaded machine
        // a one-second ban can end before the next request is answered.
        json!({"address": "192.0.2.77", "board": "t", "duration": 3, "reason": "cool off"}),
    )
    .await;
    let until = given["expires_at"].as_u64().unwrap();
    assert_eq!(until, given["created_at"].as_u64().unwrap() + 3);
    thread_from(&s, "192.0.2.77", "t", "now")
        .await
        .assert_error(403, "banned");
    // Waits for the seconds to pass, then the ban stops applying without anyone lifting it.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = thread_from(&s, "192.0.2.77", "t", "later").await;
        if r.status == 201 {
            break;
        }
        r.assert_error(403, "banned");
        assert!(Instant::now() < deadline, "the ban never expired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(mine(&s, "192.0.2.77").await["banned"], false);
}

#[tokio::test]
async fn the_ban_mark_shows_in_both_apis() {
    let s = Server::with_config(&config()).await;
    let staff = team(&s).await;
    let op = thread_from(&s, "198.51.100.5", "t", "buy cheap pills").await;
    let no = op.json["no"].as_u64().unwrap();
    let before = s.get(&format!("/api/boards/t/threads/{no}")).await;
    assert!(before.json["thread"]["posts"][0]
        .get("banned_message")
        .is_none());
    let given = ban(
        &s,
        &staff.t_mod,
        json!({"address": "198.51.100.5", "board": "t", "duration": 86400, "reason": "spam",
               "post": {"board": "t", "no": no}, "mark": true}),
    )
    .await;
    assert_eq!(given["post"], json!({"board": "t", "no": no}));
    let r = s.get(&format!("/api/boards/t/posts/{no}")).await;
    let post = &r.json["post"];
    assert_eq!(
        post["banned_message"], "(USER WAS BANNED FOR THIS POST)",
        "{post}"
    );
    let html = post["html"].as_str().unwrap();
    assert!(html.starts_with("buy cheap pills"), "{html}");
    assert!(
        html.ends_with("<br><br><strong class=\"banned\">(USER WAS BANNED FOR THIS POST)</strong>"),
        "{html}"
    );
    // The thread, already read (and cached) before, shows it as well.
    let r = s.get(&format!("/api/boards/t/threads/{no}")).await;
    assert_eq!(
        r.json["thread"]["posts"][0]["banned_message"],
        "(USER WAS BANNED FOR THIS POST)"
    );
    let r = s.get(&format!("/t/thread/{no}.json")).await;
    let com = r.json["posts"][0]["com"].as_str().unwrap();
    assert_eq!(
        com,
        "buy cheap pills<br><br><strong style=\"color: red;\">(USER WAS BANNED FOR THIS POST)</strong>"
    );
    // A custom mark, escaped; an unmarked post has no field.
    let other = thread_from(&s, "198.51.100.6", "t", "<b>also</b> spam").await;
    let other_no = other.json["no"].as_u64().unwrap();
    ban(
        &s,
        &staff.t_mod,
        json!({"address": "198.51.100.6", "board": "t", "duration": 60, "reason": "spam",
               "post": {"board": "t", "no": other_no}, "mark": "<i>banned</i> & gone"}),
    )
    .await;
    let r = s.get(&format!("/api/boards/t/posts/{other_no}")).await;
    let html = r.json["post"]["html"].as_str().unwrap();
    assert!(
        html.ends_with("<strong class=\"banned\">&lt;i&gt;banned&lt;/i&gt; &amp; gone</strong>"),
        "{html}"
    );
    let clean = thread_from(&s, "198.51.100.7", "t", "fine").await;
    let r = s
        .get(&format!("/api/boards/t/posts/{}", clean.json["no"]))
        .await;
    assert!(r.json["post"].get("banned_message").is_none(), "{}", r.json);
}

#[tokio::test]
async fn ban_appeal_accept_and_post_again() {
    let s = Server::with_config(&config()).await;
    let staff = team(&s).await;
    let poster = "192.0.2.200";
    let given = ban(
        &s,
        &staff.t_mod,
        json!({"address": poster, "board": "t", "duration": 86400, "reason": "off-topic flood",
               "note": "private: third time"}),
    )
    .await;
    let id = given["id"].as_u64().unwrap();
    // Refused with the reason.
    let r = thread_from(&s, poster, "t", "hello").await;
    r.assert_error(403, "banned");
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("off-topic flood"));
    // The poster reads why, and appeals.
    let me = mine(&s, poster).await;
    assert_eq!(me["bans"][0]["reason"], "off-topic flood");
    assert_eq!(me["bans"][0]["appeal"], Value::Null);
    let r = appeal_from(&s, poster, id, "I will stay on topic").await;
    assert_eq!(r.status, 201, "{}", r.json);
    // The moderator sees the open appeal (the other board's moderator does not) and accepts.
    let r = staff.t_mod.get(&s, "/api/bans/appeals").await;
    let appeals = r.json["appeals"].as_array().unwrap();
    assert_eq!(appeals.len(), 1, "{}", r.json);
    assert_eq!(appeals[0]["appeal"]["text"], "I will stay on topic");
    let r = staff.u_mod.get(&s, "/api/bans/appeals").await;
    assert_eq!(r.json["appeals"], json!([]));
    let accept = format!("/api/bans/{id}/appeal/accept");
    let r = staff
        .t_mod
        .post(&s, &accept, json!({"answer": "welcome back"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["ban"]["appeal"]["status"], "accepted");
    // The ban is over: the poster posts again, and nothing is left to appeal or list.
    assert_eq!(thread_from(&s, poster, "t", "back again").await.status, 201);
    assert_eq!(mine(&s, poster).await["banned"], false);
    let r = staff.t_mod.get(&s, "/api/bans/appeals").await;
    assert_eq!(r.json["appeals"], json!([]));
    staff
        .t_mod
        .post(&s, &accept, json!({}))
        .await
        .assert_error(404, "ban_not_found");
}

#[tokio::test]
async fn a_denied_appeal_answer_is_read_by_the_poster_and_survives_a_restart() {
    let mut s = Server::with_config(&config()).await;
    let staff = team(&s).await;
    let poster = "2001:db8:5::1";
    let given = ban(
        &s,
        &staff.global,
        json!({"address": "2001:db8:5::/64", "global": true, "duration": "permanent",
               "reason": "ban evasion"}),
    )
    .await;
    let id = given["id"].as_u64().unwrap();
    assert_eq!(
        appeal_from(&s, "2001:db8:5::2", id, "that was my brother")
            .await
            .status,
        201
    );
    let deny = format!("/api/bans/{id}/appeal/deny");
    let r = staff
        .global
        .post(&s, &deny, json!({"answer": "Same network, same rules."}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let me = mine(&s, poster).await;
    let appeal = &me["bans"][0]["appeal"];
    assert_eq!(appeal["status"], "denied", "{me}");
    assert_eq!(appeal["answer"], "Same network, same rules.");
    assert!(appeal.get("answered_by").is_none());
    // Still banned, still one appeal.
    thread_from(&s, poster, "u", "hi")
        .await
        .assert_error(403, "banned");
    appeal_from(&s, poster, id, "again")
        .await
        .assert_error(409, "appeal_exists");
    // The ban and its answer are in the database: a restart rebuilds the index from it.
    assert!(s.stop().success());
    s.restart();
    thread_from(&s, poster, "t", "hi")
        .await
        .assert_error(403, "banned");
    let me = mine(&s, poster).await;
    assert_eq!(
        me["bans"][0]["appeal"]["answer"],
        "Same network, same rules."
    );
    assert_eq!(
        thread_from(&s, "2001:db8:6::1", "t", "neighbour")
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn staff_ban_the_poster_of_a_post_without_seeing_the_address() {
    let s = Server::with_config(&config()).await;
    let staff = team(&s).await;
    let spammer = "2001:db8:77:1::5";
    let op = thread_from(&s, spammer, "t", "spam spam").await;
    let no = op.json["no"].as_u64().unwrap();
    let path = format!("/api/boards/t/posts/{no}/ban");
    let terms = json!({"duration": 3600, "reason": "spam", "mark": true});

    // Refusals first: nothing is banned by them.
    s.post(&path, terms.clone())
        .await
        .assert_error(403, "not_logged_in");
    staff
        .t_janitor
        .post(&s, &path, terms.clone())
        .await
        .assert_error(403, "forbidden");
    staff
        .u_mod
        .post(&s, &path, terms.clone())
        .await
        .assert_error(403, "forbidden");
    let global = json!({"duration": 3600, "reason": "spam", "global": true});
    staff
        .t_mod
        .post(&s, &path, global)
        .await
        .assert_error(403, "forbidden");
    let r = staff
        .t_mod
        .post(
            &s,
            &path,
            json!({"duration": 60, "reason": "x", "by": "ip"}),
        )
        .await;
    r.assert_error(400, "invalid_value");
    let r = staff
        .t_mod
        .post(&s, "/api/boards/t/posts/999/ban", terms.clone())
        .await;
    r.assert_error(404, "post_not_found");
    let r = staff
        .t_mod
        .post(&s, "/api/boards/zz/posts/1/ban", terms.clone())
        .await;
    assert_eq!(
        r.status, 403,
        "no such board is no board moderated: {}",
        r.json
    );
    assert_eq!(
        thread_from(&s, spammer, "t", "still posting").await.status,
        201
    );

    // By address (the default while it is kept): the poster's /64, shown to the moderator
    // only as a cloak.
    let r = staff.t_mod.post(&s, &path, terms).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let given = &r.json["ban"];
    assert_eq!(given["kind"], "range");
    assert_eq!(
        given["address"],
        Value::Null,
        "a moderator never sees the address"
    );
    let cloak = given["poster_cloak"].as_str().unwrap().to_owned();
    assert_eq!(cloak.len(), 12);
    assert_eq!(given["post"], json!({"board": "t", "no": no}));
    thread_from(&s, "2001:db8:77:1::ffff", "t", "same /64")
        .await
        .assert_error(403, "banned");
    assert_eq!(
        thread_from(&s, "2001:db8:77:2::5", "t", "next /64")
            .await
            .status,
        201
    );
    assert_eq!(
        thread_from(&s, spammer, "u", "other board").await.status,
        201
    );
    let r = s.get(&format!("/api/boards/t/posts/{no}")).await;
    assert_eq!(
        r.json["post"]["banned_message"],
        "(USER WAS BANNED FOR THIS POST)"
    );
    // The admin sees the network; the moderator finds the ban by the cloak.
    let r = staff.root.get(&s, "/api/bans?board=t").await;
    assert_eq!(
        r.json["bans"][0]["address"], "2001:db8:77:1::/64",
        "{}",
        r.json
    );
    let r = staff
        .t_mod
        .get(&s, &format!("/api/bans?board=t&cloak={cloak}"))
        .await;
    assert_eq!(r.json["bans"][0]["id"], given["id"], "{}", r.json);

    // By cloak, everywhere: a global moderator bans a poster of /u/ by its cloak there, which
    // then refuses that poster on /t/ too.
    let other = "198.51.100.44";
    let on_u = thread_from(&s, other, "u", "more spam").await;
    let path = format!("/api/boards/u/posts/{}/ban", on_u.json["no"]);
    let body = json!({"duration": "permanent", "reason": "spam", "by": "cloak", "global": true});
    let r = staff.global.post(&s, &path, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["ban"]["kind"], "cloak");
    assert_eq!(r.json["ban"]["cloak_board"], "u");
    assert_eq!(r.json["ban"]["board"], Value::Null);
    thread_from(&s, other, "t", "elsewhere")
        .await
        .assert_error(403, "banned");
    thread_from(&s, other, "u", "here")
        .await
        .assert_error(403, "banned");
    assert_eq!(
        thread_from(&s, "198.51.100.45", "u", "neighbour")
            .await
            .status,
        201
    );
    let me = mine(&s, other).await;
    assert_eq!(me["bans"].as_array().unwrap().len(), 1, "{me}");
}

/// Reports `no` on `board` from `from`.
async fn report_from(s: &Server, from: &str, board: &str, no: u64) {
    let req = s
        .client
        .post(s.url(&format!("/api/boards/{board}/posts/{no}/report")))
        .header("x-forwarded-for", from)
        .json(&json!({"category": "spam"}));
    let r = s.send(req).await;
    assert_eq!(r.status, 201, "{}", r.json);
}

#[tokio::test]
async fn reports_are_handled_by_banning_the_poster_or_the_reporters() {
    let s = Server::with_config(&config()).await;
    let staff = team(&s).await;
    let spam = thread_from(&s, "203.0.113.70", "t", "spam").await.json["no"]
        .as_u64()
        .unwrap();
    let fine = thread_from(&s, "203.0.113.71", "t", "a fine post")
        .await
        .json["no"]
        .as_u64()
        .unwrap();
    report_from(&s, "192.0.2.10", "t", spam).await;
    report_from(&s, "192.0.2.11", "t", fine).await;
    report_from(&s, "2001:db8:99::1", "t", fine).await;
    let handle = |no: u64| format!("/api/boards/t/reports/{no}");

    // Refusals: a janitor handles reports but may not ban; a ban needs its terms.
    let ban = json!({"action": "ban", "duration": 3600, "reason": "spam", "mark": true});
    let r = staff.t_janitor.post(&s, &handle(spam), ban.clone()).await;
    r.assert_error(403, "forbidden");
    let r = staff
        .t_mod
        .post(&s, &handle(spam), json!({"action": "ban", "reason": "x"}))
        .await;
    r.assert_error(400, "missing_field");
    let r = staff
        .t_mod
        .post(
            &s,
            &handle(spam),
            json!({"action": "dismiss", "duration": 5}),
        )
        .await;
    r.assert_error(400, "unknown_field");
    let abuse = json!({"action": "dismiss_and_ban_reporters", "duration": 600,
                       "reason": "report abuse", "mark": true});
    let r = staff.t_mod.post(&s, &handle(fine), abuse).await;
    r.assert_error(400, "invalid_value");
    assert_eq!(
        thread_from(&s, "203.0.113.70", "t", "more").await.status,
        201
    );

    // The poster of the reported post is banned, its post marked, its reports closed.
    let r = staff.t_mod.post(&s, &handle(spam), ban.clone()).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["handled"]["action"], "ban");
    assert_eq!(r.json["handled"]["reports"], 1);
    thread_from(&s, "203.0.113.70", "t", "again")
        .await
        .assert_error(403, "banned");
    let r = s.get(&format!("/api/boards/t/posts/{spam}")).await;
    assert_eq!(
        r.json["post"]["banned_message"],
        "(USER WAS BANNED FOR THIS POST)"
    );
    staff
        .t_mod
        .post(&s, &handle(spam), ban)
        .await
        .assert_error(404, "report_not_found");

    // Report abuse: both reporters of the fine post are banned, the post is left alone.
    let abuse = json!({"action": "dismiss_and_ban_reporters", "duration": 600,
                       "reason": "report abuse"});
    let r = staff.t_mod.post(&s, &handle(fine), abuse).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["handled"]["reports"], 2);
    thread_from(&s, "192.0.2.11", "t", "hi")
        .await
        .assert_error(403, "banned");
    thread_from(&s, "2001:db8:99::2", "t", "hi")
        .await
        .assert_error(403, "banned");
    assert_eq!(thread_from(&s, "192.0.2.10", "t", "hi").await.status, 201);
    assert_eq!(thread_from(&s, "203.0.113.71", "t", "hi").await.status, 201);
    let r = s.get(&format!("/api/boards/t/posts/{fine}")).await;
    assert!(r.json["post"].get("banned_message").is_none());
    let me = mine(&s, "192.0.2.11").await;
    assert_eq!(me["bans"][0]["reason"], "report abuse");
}
