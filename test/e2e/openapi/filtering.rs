//! The file ban and word filter routes in the documented session: each answer, successes and
//! refusals, checked against the served document.

use reqwest::Method;
use serde_json::{json, Value};

use super::Spec;
use crate::harness::*;
use crate::session::{Session, PASSWORD};

const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Uses every file ban and filter operation as the config admin `root` on board /b/ and
/// globally, with a few refusals.
pub async fn exercise(spec: &Spec, s: &Server) {
    let admin = Session::login(s, "root", PASSWORD).await;
    let (get, post, delete) = (Method::GET, Method::POST, Method::DELETE);
    let call = |method: &Method, path: &str, body: Value, status: u16| {
        let mut req = admin.request(s, method.clone(), path);
        if !body.is_null() {
            req = req.json(&body);
        }
        let (method, path) = (method.clone(), path.to_owned());
        async move { spec.call(method, &path, req, status).await }
    };
    for base in ["/api/boards/b", "/api"] {
        let bans = format!("{base}/file-bans");
        let ban = json!({"sha256": SHA, "reason": "spam", "note": "n", "delete_posts": true,
                         "exact": true});
        call(&post, &bans, ban, 201).await;
        call(&get, &bans, Value::Null, 200).await;
        call(&get, &format!("{bans}?after=zz"), Value::Null, 400).await;
        call(&delete, &format!("{bans}/{SHA}"), Value::Null, 200).await;
        call(&delete, &format!("{bans}/{SHA}"), Value::Null, 404).await;
        call(&post, &bans, json!({"sha256": "x"}), 400).await;

        let filters = format!("{base}/filters");
        let filter = json!({"pattern": "zzqq", "action": "replace", "replacement": "x",
                            "fields": ["body"]});
        let created = call(&post, &filters, filter, 201).await;
        let id = created.json()["filter"]["id"].as_u64().unwrap();
        let one = format!("{filters}/{id}");
        let banning = json!({"pattern": "qqzz", "action": "reject_and_ban",
                             "message": "No spam here.", "ban_secs": 600});
        call(&post, &one, banning, 200).await;
        call(&get, &filters, Value::Null, 200).await;
        call(
            &post,
            &one,
            json!({"pattern": "(", "regex": true, "action": "reject",
                                 "message": "Not this."}),
            400,
        )
        .await;
        call(&delete, &one, Value::Null, 200).await;
        call(&delete, &one, Value::Null, 404).await;
    }
}
