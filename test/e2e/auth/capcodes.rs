//! Capcodes: staff post as staff, chosen on each post; nobody else can.

use serde_json::json;

use crate::session::{self, Session, PASSWORD};

const OTHER_BOARD: &str = "[[boards]]\nslug = \"u\"\ntitle = \"Other\"\n";

#[tokio::test]
async fn capcodes_are_refused_to_those_not_entitled() {
    let server = session::server(OTHER_BOARD).await;
    let thread = server.thread("t", "a thread").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let jan = Session::signup(&server, "jan", PASSWORD).await;
    let r = root
        .post(
            &server,
            "/api/admin/users/jan/role",
            json!({ "role": "janitor", "boards": ["t"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let jan = Session::login(&server, jan.username(), PASSWORD).await;
    let reply = format!("/api/boards/t/threads/{thread}/posts");
    let anonymous = server
        .post(&reply, json!({ "body": "hi", "capcode": "mod" }))
        .await;
    anonymous.assert_error(403, "capcode_not_allowed");
    assert_eq!(anonymous.field(), "capcode");
    for (who, capcode) in [(&ann, "mod"), (&ann, "admin"), (&jan, "mod")] {
        let r = who
            .post(&server, &reply, json!({ "body": "hi", "capcode": capcode }))
            .await;
        r.assert_error(403, "capcode_not_allowed");
    }
    for bad in [json!("Admin"), json!("founder"), json!(""), json!(1)] {
        let r = root
            .post(&server, &reply, json!({ "body": "hi", "capcode": bad }))
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.json);
        assert_eq!(r.field(), "capcode");
    }
    let form = reqwest::multipart::Form::new()
        .text("body", "hi")
        .text("capcode", "admin");
    let r = server.post_form(&reply, form).await;
    r.assert_error(403, "capcode_not_allowed");
    // None of those posted anything.
    let r = server.get(&format!("/api/boards/t/threads/{thread}")).await;
    assert_eq!(r.json["thread"]["posts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn staff_capcodes_show_on_the_post_and_in_the_4chan_api() {
    let server = session::server(OTHER_BOARD).await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    Session::signup(&server, "mo", PASSWORD).await;
    let r = root
        .post(
            &server,
            "/api/admin/users/mo/role",
            json!({ "role": "board_mod", "boards": ["t"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let mo = Session::login(&server, "mo", PASSWORD).await;

    let r = root
        .post(
            &server,
            "/api/boards/t/threads",
            json!({ "body": "rules", "capcode": "admin" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let thread = r.json["no"].as_u64().unwrap();
    let reply = format!("/api/boards/t/threads/{thread}/posts");
    let r = mo
        .post(
            &server,
            &reply,
            json!({ "body": "noted", "capcode": "mod" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let form = reqwest::multipart::Form::new()
        .text("body", "by form")
        .text("capcode", "mod");
    let req = mo
        .request(&server, reqwest::Method::POST, &reply)
        .multipart(form);
    assert_eq!(server.send(req).await.status, 201);
    // The same staff member posting without a capcode posts as anyone.
    let r = mo.post(&server, &reply, json!({ "body": "plain" })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    // A board moderator is not a moderator of another board, nor an admin.
    let r = mo
        .post(&server, &reply, json!({ "body": "x", "capcode": "admin" }))
        .await;
    r.assert_error(403, "capcode_not_allowed");
    let r = mo
        .post(
            &server,
            "/api/boards/u/threads",
            json!({ "body": "x", "capcode": "mod" }),
        )
        .await;
    r.assert_error(403, "capcode_not_allowed");

    let r = server.get(&format!("/api/boards/t/threads/{thread}")).await;
    let capcodes: Vec<_> = r.json["thread"]["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["capcode"].clone())
        .collect();
    assert_eq!(
        capcodes,
        [json!("admin"), json!("mod"), json!("mod"), json!(null)]
    );
    let four = server.get(&format!("/t/thread/{thread}.json")).await;
    let posts = four.json["posts"].as_array().unwrap();
    assert_eq!(posts[0]["capcode"], "admin");
    assert_eq!(posts[1]["capcode"], "mod");
    assert!(posts[3].get("capcode").is_none(), "{}", posts[3]);
}
