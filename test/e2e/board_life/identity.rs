//! Who posted: tripcodes, forced anonymity, poster ids, and the e-mail and password fields,
//! which change what a post does but are never shown.

use super::*;

#[track_caller]
fn assert_trip(trip: &Value) -> String {
    let trip = trip.as_str().unwrap_or_else(|| panic!("no trip: {trip}"));
    let code = trip
        .strip_prefix("!!")
        .unwrap_or_else(|| panic!("trip {trip} does not start with !!"));
    assert!(
        code.len() == 10
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_'),
        "trip {trip} is not !! and 10 of [A-Za-z0-9._]"
    );
    trip.to_owned()
}

const SECRET: &str = "Xq7-kettle";
const OTHER_SECRET: &str = "Zz9-teapot";

#[tokio::test]
async fn tripcodes_are_stable_distinct_and_keep_the_secret() {
    let mut s = Server::start().await;
    let r = s
        .post(
            &threads("b"),
            json!({ "body": "op", "name": format!("alice#{SECRET}") }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert!(!r.json.to_string().contains(SECRET), "{}", r.json);
    let t = r.json["no"].as_u64().unwrap();
    let op = post(&s, "b", t).await;
    assert_eq!(op["name"], "alice");
    let trip = assert_trip(&op["trip"]);

    // (name sent, name shown, trip: Some(true) = the same as alice's, Some(false) = another,
    // None = no trip)
    let cases: [(String, &str, Option<bool>); 8] = [
        (format!("bob#{SECRET}"), "bob", Some(true)),
        (format!("  carol  #{SECRET}"), "carol", Some(true)),
        (format!("#{SECRET}"), "Anonymous", Some(true)),
        (format!("alice#{SECRET}x"), "alice", Some(false)),
        (format!("alice#{OTHER_SECRET}"), "alice", Some(false)),
        ("dave#".to_owned(), "dave", None),
        ("eve".to_owned(), "eve", None),
        (String::new(), "Anonymous", None),
    ];
    let mut others = Vec::new();
    let mut failures = Vec::new();
    for (sent, shown, same) in &cases {
        let no = s
            .reply("b", t, json!({ "body": "reply", "name": sent }))
            .await;
        let p = post(&s, "b", no).await;
        if p["name"] != *shown {
            failures.push(format!("{sent:?}: name {} instead of {shown:?}", p["name"]));
        }
        match same {
            Some(true) if p["trip"] != trip.as_str() => {
                failures.push(format!("{sent:?}: trip {} instead of {trip}", p["trip"]))
            }
            Some(false) => {
                let other = assert_trip(&p["trip"]);
                if other == trip || others.contains(&other) {
                    failures.push(format!("{sent:?}: trip {other} is not a new one"));
                }
                others.push(other);
            }
            None if !p["trip"].is_null() => {
                failures.push(format!("{sent:?}: trip {} instead of null", p["trip"]))
            }
            _ => {}
        }
    }
    assert_no_mismatches(&failures);
    // From a form too.
    let (_, p) = upload(
        &s,
        &replies("b", t),
        form(Some("from a form"), vec![]).text("name", format!("mallory#{SECRET}")),
    )
    .await;
    assert_eq!((&p["name"], &p["trip"]), (&json!("mallory"), &json!(trip)));

    let shown = everything_shown(&s, "b", &[t], &(1..=10).collect::<Vec<_>>()).await;
    assert!(
        shown.contains(&trip) && shown.contains("mallory"),
        "{shown}"
    );
    for secret in [SECRET, OTHER_SECRET, "kettle", "teapot"] {
        assert!(!shown.contains(secret), "`{secret}` is shown: {shown}");
    }

    // The same secret gives the same trip after a restart.
    s.stop();
    s.restart();
    let no = s
        .reply(
            "b",
            t,
            json!({ "body": "back", "name": format!("zed#{SECRET}") }),
        )
        .await;
    assert_eq!(post(&s, "b", no).await["trip"], trip.as_str());
    assert_eq!(post(&s, "b", t).await["trip"], trip.as_str());

    // Another server has another key: the secret does not give the same trip there.
    let elsewhere = Server::start().await;
    let t2 = open(
        &elsewhere,
        "b",
        json!({ "body": "op", "name": format!("alice#{SECRET}") }),
    )
    .await;
    let there = assert_trip(&post(&elsewhere, "b", t2).await["trip"]);
    assert_ne!(there, trip, "the trip does not depend on a server-side key");
}

#[tokio::test]
async fn forced_anon_ignores_names_and_tripcodes() {
    let s = Server::with_config(&(board("anon", "forced_anon = true") + &board("a", ""))).await;
    let t = open(
        &s,
        "anon",
        json!({ "body": "op", "name": format!("alice#{SECRET}"), "subject": "s" }),
    )
    .await;
    let r = s
        .reply("anon", t, json!({ "body": "r", "name": "bob" }))
        .await;
    let (f, _) = upload(
        &s,
        &replies("anon", t),
        form(Some("form"), vec![]).text("name", format!("carol#{SECRET}")),
    )
    .await;
    for no in [t, r, f] {
        let p = post(&s, "anon", no).await;
        assert_eq!(p["name"], "Anonymous", "{p}");
        assert_eq!(p["trip"], Value::Null, "{p}");
    }
    let shown = everything_shown(&s, "anon", &[t], &[t, r, f]).await;
    assert!(shown.contains("Anonymous"), "{shown}");
    for hidden in [SECRET, "alice", "bob", "carol"] {
        assert!(!shown.contains(hidden), "`{hidden}` is shown: {shown}");
    }
    // Another board keeps names.
    let a = open(
        &s,
        "a",
        json!({ "body": "op", "name": format!("zoe#{SECRET}") }),
    )
    .await;
    let p = post(&s, "a", a).await;
    assert_eq!(p["name"], "zoe");
    assert_trip(&p["trip"]);
}

const X: &str = "203.0.113.7";
const Y: &str = "198.51.100.9";

async fn id_of(s: &Server, r: Reply) -> String {
    assert_eq!(r.status, 201, "{}", r.json);
    let p = post(
        s,
        r.json["board"].as_str().unwrap(),
        r.json["no"].as_u64().unwrap(),
    )
    .await;
    let id = p["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {p}"))
        .to_owned();
    assert!(
        id.len() == 8
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_'),
        "id {id} is not 8 of [A-Za-z0-9._]"
    );
    id
}

#[tokio::test]
async fn poster_ids_are_per_thread_and_per_client() {
    let s = Server::with_config(&(board("p", "poster_ids = true") + &board("a", ""))).await;
    let r = post_from(&s, &threads("p"), X, json!({ "body": "op by x" })).await;
    let t1 = r.json["no"].as_u64().unwrap();
    let x1 = id_of(&s, r).await;
    let x1_again = id_of(
        &s,
        post_from(&s, &replies("p", t1), X, json!({ "body": "x again" })).await,
    )
    .await;
    let y1 = id_of(
        &s,
        post_from(&s, &replies("p", t1), Y, json!({ "body": "y" })).await,
    )
    .await;
    let local1 = id_of(
        &s,
        s.post(&replies("p", t1), json!({ "body": "local" })).await,
    )
    .await;
    let r = post_from(&s, &threads("p"), X, json!({ "body": "x's second thread" })).await;
    let t2 = r.json["no"].as_u64().unwrap();
    let x2 = id_of(&s, r).await;
    let y2 = id_of(
        &s,
        post_from(&s, &replies("p", t2), Y, json!({ "body": "y" })).await,
    )
    .await;
    let x3 = id_of(
        &s,
        post_from(&s, &threads("p"), X, json!({ "body": "x's third thread" })).await,
    )
    .await;

    assert_eq!(x1, x1_again, "one client keeps its id within a thread");
    assert_ne!(x1, y1, "two clients in one thread");
    assert_ne!(x1, local1, "two clients in one thread");
    assert_ne!(y1, local1, "two clients in one thread");
    assert_ne!(x1, x2, "one client in two threads");
    assert_ne!(x1, x3, "one client in two threads");
    assert_ne!(x2, x3, "one client in two threads");
    assert_ne!(y1, y2, "one client in two threads");
    assert_ne!(x2, y2, "two clients in one thread");

    // The thread shows the same ids.
    let th = thread(&s, "p", t1).await;
    let ids: Vec<&str> = th["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, [&x1, &x1, &y1, &local1]);
    // No address is shown anywhere.
    let shown = everything_shown(&s, "p", &[t1, t2], &(1..=7).collect::<Vec<_>>()).await;
    assert!(shown.contains(&x1) && shown.contains(&y2), "{shown}");
    for address in [X, Y, "127.0.0.1", "2030113", "198511009"] {
        assert!(!shown.contains(address), "`{address}` is shown: {shown}");
    }
    // Without the option there is no id.
    let r = post_from(&s, &threads("a"), X, json!({ "body": "no ids here" })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let plain = post(&s, "a", r.json["no"].as_u64().unwrap()).await;
    let fields = plain.as_object().unwrap();
    // Empty fields are left out, the id among them.
    for key in ["id", "trip", "backlinks", "files_deleted"] {
        assert_eq!(fields.get(key), None, "{key} in {plain}");
    }
}

#[tokio::test]
async fn email_sage_does_not_bump_and_email_is_never_shown() {
    let s = Server::start().await;
    let a = s.thread("b", "a").await;
    let b = s.thread("b", "b").await;
    assert_eq!(catalog(&s, "b").await, [b, a]);
    let mut failures = Vec::new();
    // (email, sage, bumps a)
    let cases = [
        (json!("sage"), true),
        (json!("SAGE"), true),
        (json!("SaGe"), true),
        (json!("noko@example.org"), false),
        (json!(""), false),
        (json!(null), false),
        (json!("x".repeat(254)), false),
    ];
    for (email, sage) in &cases {
        // Put b on top, then reply to a: a comes up unless the reply is sage.
        s.reply("b", b, json!({ "body": "bump b" })).await;
        let r = s
            .post(&replies("b", a), json!({ "body": "r", "email": email }))
            .await;
        if r.status != 201 {
            failures.push(format!("email {email}: {} {}", r.status, r.json));
            continue;
        }
        let no = r.json["no"].as_u64().unwrap();
        let p = post(&s, "b", no).await;
        // A post without sage leaves the field out.
        if p.get("sage") != sage.then_some(&json!(true)) {
            failures.push(format!("email {email}: sage {}", p["sage"]));
        }
        if p.get("email").is_some() {
            failures.push(format!("email {email}: the post shows it: {p}"));
        }
        let expected = if *sage { [b, a] } else { [a, b] };
        let order = catalog(&s, "b").await;
        if order != expected {
            failures.push(format!("email {email}: catalog {order:?}"));
        }
    }
    // From a form, the same.
    s.reply("b", b, json!({ "body": "bump b" })).await;
    let (_, p) = upload(
        &s,
        &replies("b", a),
        form(Some("form"), vec![]).text("email", "Sage"),
    )
    .await;
    assert_eq!(p["sage"], true, "email=Sage in a form");
    assert_eq!(catalog(&s, "b").await, [b, a]);
    assert_no_mismatches(&failures);

    let refusals = [
        (json!("x".repeat(255)), 400, "too_long"),
        (json!(5), 400, "invalid_type"),
        (json!(true), 400, "invalid_type"),
        (json!(["sage"]), 400, "invalid_type"),
    ];
    let before = catalog(&s, "b").await;
    let replies_before = thread(&s, "b", a).await["replies"].clone();
    for (email, status, code) in refusals {
        let r = s
            .post(&replies("b", a), json!({ "body": "r", "email": email }))
            .await;
        failures.extend(mismatch(&r, status, code, Some("email")));
        let r = s
            .post(&threads("b"), json!({ "body": "t", "email": email }))
            .await;
        failures.extend(mismatch(&r, status, code, Some("email")));
    }
    let r = s
        .post_form(
            &replies("b", a),
            form(Some("form"), vec![]).text("email", "x".repeat(255)),
        )
        .await;
    failures.extend(mismatch(&r, 400, "too_long", Some("email")));
    assert_no_mismatches(&failures);
    assert_eq!(
        catalog(&s, "b").await,
        before,
        "a refused post changes nothing"
    );
    assert_eq!(thread(&s, "b", a).await["replies"], replies_before);

    let shown = everything_shown(&s, "b", &[a, b], &(1..=20).collect::<Vec<_>>()).await;
    assert!(shown.contains("bump b"), "{shown}");
    for hidden in ["noko@example.org", &"x".repeat(254), "\"email\""] {
        assert!(!shown.contains(hidden), "`{hidden}` is shown: {shown}");
    }
}

#[tokio::test]
async fn passwords_are_checked_and_never_shown() {
    let s = Server::start().await;
    let t = open(
        &s,
        "b",
        json!({ "body": "op", "password": "op password 1" }),
    )
    .await;
    let long = "k".repeat(128);
    let wide = "é".repeat(128);
    let accepted = [
        "p",
        "correct horse battery staple",
        long.as_str(),
        wide.as_str(),
    ];
    let mut failures = Vec::new();
    let mut next = t + 1;
    for password in accepted {
        let r = s
            .post(
                &replies("b", t),
                json!({ "body": "r", "password": password }),
            )
            .await;
        if r.status != 201 {
            failures.push(format!("password {password:?}: {} {}", r.status, r.json));
            continue;
        }
        assert_eq!(r.json["no"], next);
        next += 1;
        if r.json.to_string().contains(password) && password.len() > 1 {
            failures.push(format!("password {password:?} in the answer: {}", r.json));
        }
    }
    let (_, p) = upload(
        &s,
        &replies("b", t),
        form(Some("form"), vec![]).text("password", "form password 2"),
    )
    .await;
    assert_eq!(p["no"], next);
    next += 1;
    assert_no_mismatches(&failures);

    let refusals = [
        (json!(""), "empty"),
        (json!("k".repeat(129)), "too_long"),
        (json!("é".repeat(129)), "too_long"),
        (json!("two\nlines"), "control_characters"),
        (json!("two\r\nlines"), "control_characters"),
        (json!("tab\there"), "control_characters"),
        (json!(1234), "invalid_type"),
        (json!(["pw"]), "invalid_type"),
        (json!({ "pw": 1 }), "invalid_type"),
    ];
    for (password, code) in &refusals {
        let r = s
            .post(
                &replies("b", t),
                json!({ "body": "r", "password": password }),
            )
            .await;
        failures.extend(mismatch(&r, 400, code, Some("password")));
        let r = s
            .post(&threads("b"), json!({ "body": "t", "password": password }))
            .await;
        failures.extend(mismatch(&r, 400, code, Some("password")));
    }
    for (password, code) in [
        ("k".repeat(129), "too_long"),
        ("two\nlines".to_owned(), "control_characters"),
    ] {
        let r = s
            .post_form(
                &replies("b", t),
                form(Some("form"), vec![]).text("password", password),
            )
            .await;
        failures.extend(mismatch(&r, 400, code, Some("password")));
    }
    assert_no_mismatches(&failures);
    assert_eq!(
        s.reply("b", t, json!({ "body": "after" })).await,
        next,
        "a refused post used up a number"
    );

    let shown = everything_shown(&s, "b", &[t], &(1..=next).collect::<Vec<_>>()).await;
    assert!(shown.contains("after"), "{shown}");
    for hidden in [
        "op password 1",
        "correct horse",
        "form password 2",
        long.as_str(),
        wide.as_str(),
        "\"password\"",
    ] {
        assert!(!shown.contains(hidden), "`{hidden}` is shown: {shown}");
    }
}
