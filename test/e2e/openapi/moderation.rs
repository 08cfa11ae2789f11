//! The moderation routes in the documented session: reports, their queues and handling, staff
//! deletions, posters and both views of the staff log, each answer checked against the served
//! document, refusals included.

use reqwest::Method;
use serde_json::{json, Value};

use super::{request, Spec};
use crate::harness::*;
use crate::session::{Session, PASSWORD};

/// Uses every moderation operation on /b/ as the config admin `root` (signed up earlier in the
/// session), a janitor of /b/, and anonymously.
pub async fn exercise(spec: &Spec, s: &Server) {
    let admin = Session::login(s, "root", PASSWORD).await;
    let jan = Session::signup(s, "jan", PASSWORD).await;
    let r = admin
        .post(
            s,
            "/api/admin/users/jan/role",
            json!({"role": "janitor", "boards": ["b"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let (get, post) = (Method::GET, Method::POST);
    let call = |who: Option<&Session>, method: &Method, path: &str, body: Value, status: u16| {
        let mut req = match who {
            Some(user) => user.request(s, method.clone(), path),
            None => request(s, method, path).header("x-forwarded-for", "198.51.100.9"),
        };
        if !body.is_null() {
            req = req.json(&body);
        }
        let (method, path) = (method.clone(), path.to_owned());
        async move { spec.call(method, &path, req, status).await }
    };
    let (root, janitor) = (Some(&admin), Some(&jan));
    let op = s.thread("b", "moderated").await;
    let reply = s.reply("b", op, json!({"body": "spam"})).await;
    let other = s.reply("b", op, json!({"body": "more spam"})).await;

    let report = format!("/api/boards/b/posts/{reply}/report");
    call(
        None,
        &post,
        &report,
        json!({"category": "spam", "note": "ad"}),
        201,
    )
    .await;
    call(None, &post, &report, json!({"category": "spam"}), 409).await;
    call(None, &post, &report, json!({"category": "nope"}), 400).await;
    let missing = "/api/boards/b/posts/999999/report";
    call(None, &post, missing, json!({"category": "spam"}), 404).await;

    call(janitor, &get, "/api/boards/b/reports", Value::Null, 200).await;
    call(
        janitor,
        &get,
        "/api/boards/b/reports?limit=1000",
        Value::Null,
        400,
    )
    .await;
    call(None, &get, "/api/boards/b/reports", Value::Null, 403).await;
    call(root, &get, "/api/boards/zz/reports", Value::Null, 404).await;
    call(root, &get, "/api/reports", Value::Null, 200).await;
    call(janitor, &get, "/api/reports/counts", Value::Null, 200).await;
    call(None, &get, "/api/reports/counts", Value::Null, 403).await;
    call(None, &get, "/api/reports/live", Value::Null, 403).await;
    call(janitor, &get, "/api/reports/live?board=b", Value::Null, 400).await;
    // The counts stream: its answer, and its first event's data against its schema.
    let path = "/api/reports/live";
    let mut stream = jan.request(s, get.clone(), path).send().await.unwrap();
    let a = super::Answer {
        status: stream.status(),
        headers: stream.headers().clone(),
        body: Vec::new(),
    };
    spec.conforms(&get, path, &a).unwrap();
    assert_eq!(a.status, 200);
    let mut text = String::new();
    let data = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let complete = text.rsplit_once("\n\n").map_or("", |(done, _)| done);
            if let Some(data) = complete.lines().find_map(|l| l.strip_prefix("data: ")) {
                return data.to_owned();
            }
            let chunk = stream.chunk().await.unwrap().expect("the stream ended");
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    })
    .await
    .expect("no counts event within 10 s");
    let event: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(event["counts"]["b"], 1, "{event}");
    spec.validate_component("ReportCountsEvent", &event)
        .unwrap();
    drop(stream);

    let handle = format!("/api/boards/b/reports/{reply}");
    call(
        janitor,
        &post,
        &handle,
        json!({"action": "delete_files"}),
        400,
    )
    .await;
    call(
        janitor,
        &post,
        &handle,
        json!({"action": "dismiss", "reason": "fine"}),
        200,
    )
    .await;
    call(janitor, &post, &handle, json!({"action": "dismiss"}), 404).await;

    let posters = format!("/api/boards/b/threads/{op}/posters");
    call(root, &get, &posters, Value::Null, 200).await;
    call(janitor, &get, &posters, Value::Null, 200).await;
    call(
        janitor,
        &get,
        "/api/boards/b/threads/999999/posters",
        Value::Null,
        404,
    )
    .await;

    let delete = |no: u64| format!("/api/boards/b/posts/{no}/staff-delete");
    call(
        janitor,
        &post,
        &delete(other),
        json!({"scope": "post", "note": "x"}),
        200,
    )
    .await;
    call(
        janitor,
        &post,
        &delete(other),
        json!({"scope": "post"}),
        410,
    )
    .await;
    call(
        janitor,
        &post,
        &delete(reply),
        json!({"scope": "files"}),
        400,
    )
    .await;
    call(
        janitor,
        &post,
        &delete(999_999),
        json!({"scope": "post"}),
        404,
    )
    .await;
    call(None, &post, &delete(reply), json!({"scope": "post"}), 403).await;
    call(
        janitor,
        &post,
        &delete(reply),
        json!({"scope": "poster_board"}),
        200,
    )
    .await;
    s.get(&format!("/api/boards/b/threads/{op}"))
        .await
        .assert_error(410, "thread_deleted");
    call(janitor, &get, &posters, Value::Null, 410).await;

    call(root, &get, "/api/modlog", Value::Null, 200).await;
    call(janitor, &get, "/api/modlog?limit=1", Value::Null, 200).await;
    call(janitor, &get, "/api/modlog?limit=0", Value::Null, 400).await;
    let filtered = "/api/modlog?board=b&action=post_delete&limit=5";
    call(root, &get, filtered, Value::Null, 200).await;
    call(
        janitor,
        &get,
        "/api/modlog?action=poster_delete",
        Value::Null,
        200,
    )
    .await;
    call(janitor, &get, "/api/modlog?board=zz", Value::Null, 403).await;
    call(root, &get, "/api/modlog?action=nuke", Value::Null, 400).await;
    call(None, &get, "/api/modlog", Value::Null, 403).await;
    call(None, &get, "/api/boards/b/modlog", Value::Null, 200).await;
    call(
        None,
        &get,
        "/api/boards/b/modlog?before=2&limit=5",
        Value::Null,
        200,
    )
    .await;
    call(None, &get, "/api/boards/zz/modlog", Value::Null, 404).await;
}
