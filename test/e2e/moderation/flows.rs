//! The flows: a report reaches the queue and its badge, a janitor deletes the post from the
//! queue, the staff log shows who and why while the public log hides it; deleting every post
//! of one poster in a thread and on a board; deleting only a post's files.

use crate::uploads::{form, png, sha256_hex, upload};

use super::*;

const SPAMMER: &str = "203.0.113.66";
const REPORTER: &str = "198.51.100.7";
const BYSTANDER: &str = "192.0.2.1";

#[tokio::test]
async fn a_reported_post_is_deleted_from_the_queue_and_logged() {
    let s = Server::with_config(&config("")).await;
    let (root, jan, _) = team(&s).await;
    let op = thread_from(&s, BYSTANDER, "t", "a fine thread").await;
    let spam = reply_from(&s, SPAMMER, "t", op, "buy now").await;
    let fine = reply_from(&s, BYSTANDER, "t", op, "hello").await;

    let r = report_from(
        &s,
        REPORTER,
        "t",
        spam,
        json!({"category": "spam", "note": "an advert"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    report_from(&s, BYSTANDER, "t", spam, json!({"category": "rule"})).await;
    report_from(&s, REPORTER, "t", fine, json!({"category": "other"})).await;

    // The queue: grouped by post, the most recently reported first, with its count.
    let queue = jan.get(&s, "/api/boards/t/reports").await;
    assert_eq!(queue.status, 200, "{}", queue.json);
    assert_eq!(queue.json["count"], 2);
    let posts = queue.json["reports"].as_array().unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0]["no"], fine);
    assert_eq!(posts[1]["no"], spam);
    assert_eq!(posts[1]["count"], 2);
    assert_eq!(posts[1]["post"]["body"], "buy now");
    let reports = posts[1]["reports"].as_array().unwrap();
    // A post's reports are listed by reporter cloak, which depends on the server's secret.
    let advert = reports
        .iter()
        .find(|r| r["category"] == "spam")
        .expect("the spam report is listed");
    assert_eq!(advert["note"], "an advert");
    assert!(reports.iter().any(|r| r["category"] == "rule"));
    let reporter_cloak = advert["cloak"].as_str().unwrap().to_owned();
    assert_eq!(reporter_cloak.len(), 12);
    assert!(
        reports.iter().all(|r| r.get("address").is_none()),
        "a janitor sees no address: {reports:?}"
    );
    let as_admin = root.get(&s, "/api/reports").await;
    assert_eq!(as_admin.json["counts"], json!({"t": 2, "u": 0}));
    let addresses: Vec<_> = as_admin.json["reports"][1]["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap_or("none").to_owned())
        .collect();
    assert!(
        addresses.iter().any(|a| a == REPORTER),
        "admins see the reporter's address: {addresses:?}"
    );
    let badge = jan.get(&s, "/api/reports/counts").await;
    assert_eq!(badge.json, json!({"counts": {"t": 2}, "total": 2}));

    // The janitor deletes the spam from the queue in one call.
    let r = jan
        .post(
            &s,
            &format!("/api/boards/t/reports/{spam}"),
            json!({"action": "delete", "reason": "Spam", "note": "same advert as last week"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"handled": {"board": "t", "no": spam, "action": "delete", "reports": 2,
                           "deleted": [spam]}})
    );
    assert!(!exists(&s, "t", spam).await);
    let thread = s.get(&format!("/api/boards/t/threads/{op}")).await;
    let nos: Vec<u64> = thread.json["thread"]["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["no"].as_u64().unwrap())
        .collect();
    assert_eq!(nos, vec![op, fine]);
    let fourchan = s.get(&format!("/t/thread/{op}.json")).await;
    assert_eq!(fourchan.json["posts"].as_array().unwrap().len(), 2);
    // And the other report is dismissed: the queue is empty.
    let r = jan
        .post(
            &s,
            &format!("/api/boards/t/reports/{fine}"),
            json!({"action": "dismiss"}),
        )
        .await;
    assert_eq!(r.json["handled"]["deleted"], json!([]));
    assert!(exists(&s, "t", fine).await);
    let queue = jan.get(&s, "/api/boards/t/reports").await;
    assert_eq!(queue.json, json!({"reports": [], "count": 0}));
    assert_eq!(jan.get(&s, "/api/reports/counts").await.json["total"], 0);

    // The staff log: who, what, why, and the private note.
    let log = jan.get(&s, "/api/modlog").await;
    let entries = log.json["entries"].as_array().unwrap();
    assert_eq!(entries[0]["action"], "report_dismiss");
    let deleted = &entries[1];
    assert_eq!(deleted["action"], "post_delete");
    assert_eq!(deleted["actor"], "jan");
    assert_eq!(deleted["board"], "t");
    assert_eq!(deleted["reason"], "Spam");
    assert_eq!(deleted["note"], "same advert as last week");
    assert_eq!(deleted["change"]["no"], spam);
    assert_eq!(deleted["change"]["reports"], 2);
    let whole = root.get(&s, "/api/modlog?limit=2").await;
    assert_eq!(whole.json["entries"][1]["id"], deleted["id"]);
    let next = whole.json["next"].as_u64().unwrap();
    let older = root.get(&s, &format!("/api/modlog?before={next}")).await;
    assert!(older.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["id"].as_u64().unwrap() < next));

    // The public log: the action, the reason and the post, nothing private.
    let public = s.get("/api/boards/t/modlog").await;
    assert_eq!(public.status, 200, "{}", public.json);
    let shown = &public.json["entries"][1];
    assert_eq!(
        *shown,
        json!({"id": deleted["id"], "at": deleted["at"], "action": "post_delete", "board": "t",
               "reason": "Spam", "post": spam})
    );
    let text = public.json.to_string();
    for private in [
        "jan",
        "same advert",
        REPORTER,
        SPAMMER,
        reporter_cloak.as_str(),
    ] {
        assert!(!text.contains(private), "{private} in {text}");
    }
    // A board that shows names shows the staff account, and still nothing else.
    let r = root
        .post(&s, "/api/admin/boards/t", json!({"public_log_names": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let public = s.get("/api/boards/t/modlog").await;
    let named = public.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "post_delete")
        .unwrap()
        .clone();
    assert_eq!(named["actor"], "jan");
    assert!(!public.json.to_string().contains("same advert"));
    // Another board's public log holds none of it.
    let u = s.get("/api/boards/u/modlog").await;
    assert_eq!(u.json["entries"].as_array().unwrap().len(), 1, "{}", u.json);
}

#[tokio::test]
async fn every_post_of_a_poster_goes_in_a_thread_or_on_a_board() {
    let s = Server::with_config(&config("")).await;
    let (root, jan, _) = team(&s).await;
    let first = thread_from(&s, BYSTANDER, "t", "thread one").await;
    let second = thread_from(&s, BYSTANDER, "t", "thread two").await;
    let a1 = reply_from(&s, SPAMMER, "t", first, "spam 1").await;
    let b1 = reply_from(&s, BYSTANDER, "t", first, "fine 1").await;
    let a2 = reply_from(&s, SPAMMER, "t", first, "spam 2").await;
    let a3 = reply_from(&s, SPAMMER, "t", second, "spam 3").await;
    let own = thread_from(&s, SPAMMER, "t", "spam thread").await;
    let b2 = reply_from(&s, BYSTANDER, "t", own, "fine 2").await;
    let elsewhere = thread_from(&s, SPAMMER, "u", "other board").await;

    // Staff see one cloak per poster; admins see the addresses too.
    let posters = jan
        .get(&s, &format!("/api/boards/t/threads/{first}/posters"))
        .await;
    assert_eq!(posters.status, 200, "{}", posters.json);
    let map = posters.json["posters"].as_object().unwrap();
    assert_eq!(map.len(), 4);
    let cloak = |no: u64| map[&no.to_string()]["cloak"].as_str().unwrap().to_owned();
    assert_eq!(cloak(a1), cloak(a2));
    assert_ne!(cloak(a1), cloak(b1));
    assert!(map.values().all(|p| p.get("address").is_none()), "{map:?}");
    let seen_by_admin = root
        .get(&s, &format!("/api/boards/t/threads/{first}/posters"))
        .await;
    assert_eq!(
        seen_by_admin.json["posters"][a1.to_string()],
        json!({"cloak": cloak(a1), "address": SPAMMER})
    );

    // In the thread: a1 and a2, not the bystander's post, not the spammer's elsewhere.
    let r = jan
        .post(
            &s,
            &format!("/api/boards/t/posts/{a2}/staff-delete"),
            json!({"scope": "poster_thread", "reason": "Flooding"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["deleted"]["nos"], json!([a1, a2]));
    assert_eq!(r.json["deleted"]["more"], false);
    for (no, live) in [
        (a1, false),
        (a2, false),
        (b1, true),
        (a3, true),
        (own, true),
    ] {
        assert_eq!(exists(&s, "t", no).await, live, "{no}");
    }

    // On the board: the rest of the spammer's posts on /t/, its thread with the bystander's
    // reply in it; nothing on /u/.
    let r = jan
        .post(
            &s,
            &format!("/api/boards/t/posts/{a3}/staff-delete"),
            json!({"scope": "poster_board"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["deleted"]["nos"], json!([a3, own]));
    for (no, live) in [
        (a3, false),
        (own, false),
        (b2, false),
        (b1, true),
        (second, true),
    ] {
        assert_eq!(exists(&s, "t", no).await, live, "{no}");
    }
    s.get(&format!("/api/boards/t/threads/{own}"))
        .await
        .assert_error(410, "thread_deleted");
    assert!(exists(&s, "u", elsewhere).await);
    let log = jan.get(&s, "/api/modlog").await;
    let entry = &log.json["entries"][0];
    assert_eq!(entry["action"], "poster_delete");
    assert_eq!(entry["change"]["scope"], "poster_board");
    assert_eq!(entry["change"]["cloak"], cloak(a1));
}

#[tokio::test]
async fn deleting_only_files_removes_them_from_disk_when_last_carried() {
    let s = Server::with_config(&config("")).await;
    let (_root, jan, _) = team(&s).await;
    let shared = png(24, 24, [9, 8, 7]);
    let alone = png(24, 24, [1, 200, 3]);
    let (op, _) = upload(
        &s,
        "/api/boards/t/threads",
        form(Some("pictures"), vec![(shared.clone(), "a.png")]),
    )
    .await;
    let (twin, _) = upload(
        &s,
        &format!("/api/boards/t/threads/{op}/posts"),
        form(Some("same picture"), vec![(shared.clone(), "b.png")]),
    )
    .await;
    let (single, _) = upload(
        &s,
        &format!("/api/boards/t/threads/{op}/posts"),
        form(Some("own picture"), vec![(alone.clone(), "c.png")]),
    )
    .await;
    let on_disk = |bytes: &[u8]| {
        let sha = sha256_hex(bytes);
        s.stored_files()
            .iter()
            .any(|p| p.to_string_lossy().contains(&sha))
    };
    assert!(on_disk(&shared) && on_disk(&alone));

    let files_of = |no: u64| format!("/api/boards/t/posts/{no}/staff-delete");
    let r = jan
        .post(&s, &files_of(single), json!({"scope": "files"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(!on_disk(&alone), "its last post let go of it");
    let kept = s.get(&format!("/api/boards/t/posts/{single}")).await;
    assert_eq!(kept.json["post"]["files_deleted"], true);
    assert!(kept.json["post"].get("files").is_none());

    let r = jan
        .post(&s, &files_of(twin), json!({"scope": "files"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(on_disk(&shared), "the OP still carries it");
    jan.post(&s, &files_of(twin), json!({"scope": "files"}))
        .await
        .assert_error(400, "no_files");
    let log = jan.get(&s, "/api/modlog?limit=1").await;
    assert_eq!(log.json["entries"][0]["action"], "files_delete");
}

#[tokio::test]
async fn the_staff_log_filters_by_board_and_action() {
    let s = Server::with_config(&config("")).await;
    let (root, jan, ulla) = team(&s).await;
    let on_t = thread_from(&s, BYSTANDER, "t", "on t").await;
    let on_u = thread_from(&s, BYSTANDER, "u", "on u").await;
    for (who, board, no) in [(&jan, "t", on_t), (&ulla, "u", on_u)] {
        let path = format!("/api/boards/{board}/posts/{no}/staff-delete");
        let r = who
            .post(&s, &path, json!({"scope": "post", "reason": "off topic"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.json);
    }
    // (who, query) → (board, action) of each entry, newest first, and whether a page follows.
    type Case<'a> = (&'a Session, &'a str, &'a [(&'a str, &'a str)], bool);
    let cases: [Case; 7] = [
        (
            &root,
            "board=t",
            &[("t", "post_delete"), ("t", "board_create")],
            false,
        ),
        (
            &root,
            "action=post_delete",
            &[("u", "post_delete"), ("t", "post_delete")],
            false,
        ),
        (
            &root,
            "action=post_delete&limit=1",
            &[("u", "post_delete")],
            true,
        ),
        (
            &root,
            "board=u&action=post_delete",
            &[("u", "post_delete")],
            false,
        ),
        (&root, "action=ban", &[], false),
        (&jan, "action=post_delete", &[("t", "post_delete")], false),
        (
            &jan,
            "board=t&action=board_create",
            &[("t", "board_create")],
            false,
        ),
    ];
    for (who, query, want, more) in cases {
        let r = who.get(&s, &format!("/api/modlog?{query}")).await;
        assert_eq!(r.status, 200, "{query}: {}", r.json);
        let got: Vec<(String, String)> = r.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                (text("board"), text("action"))
            })
            .collect();
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(b, a)| (b.to_string(), a.to_string()))
            .collect();
        assert_eq!(got, want, "{query}");
        assert_eq!(!r.json["next"].is_null(), more, "{query}: {}", r.json);
    }
    // The next page of a filtered read keeps the filter.
    let first = root.get(&s, "/api/modlog?action=post_delete&limit=1").await;
    let next = first.json["next"].as_u64().unwrap();
    let rest = root
        .get(&s, &format!("/api/modlog?action=post_delete&before={next}"))
        .await;
    assert_eq!(rest.json["entries"][0]["board"], "t", "{}", rest.json);
    assert_eq!(rest.json["entries"].as_array().unwrap().len(), 1);
    // A janitor reads only their boards; filters are checked.
    jan.get(&s, "/api/modlog?board=u")
        .await
        .assert_error(403, "forbidden");
    for query in ["action=nuke", "action=", "board=t&page=2"] {
        root.get(&s, &format!("/api/modlog?{query}"))
            .await
            .assert_error(400, "invalid_query");
    }
}
