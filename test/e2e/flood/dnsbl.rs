//! The DNSBL check against a DNS server the test runs on loopback: a listed address is
//! refused, others post, answers are cached, and a resolver that never answers lets posts
//! through with a warning.

use std::net::UdpSocket;
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::{created, post_as};
use crate::harness::Server;
use crate::validation::refused;

/// The zone the test server answers for, and the one address it lists (192.0.2.66).
const ZONE: &str = "bl.test";
const LISTED: &str = "66.2.0.192.bl.test";

/// A DNS server on 127.0.0.1 that answers A queries: 127.0.0.2 for [`LISTED`], NXDOMAIN for
/// any other name. Returns its port and the names it was asked, in order.
fn start_blocklist() -> (u16, Arc<Mutex<Vec<String>>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let query = &buf[..n];
            let Some((name, question_end)) = question(query) else {
                continue;
            };
            log.lock().unwrap().push(name.clone());
            let listed = name == LISTED;
            let mut answer = query[..2].to_vec(); // the query's id
            answer.extend_from_slice(&[0x81, if listed { 0x80 } else { 0x83 }]);
            answer.extend_from_slice(&[0, 1, 0, u8::from(listed), 0, 0, 0, 0]);
            answer.extend_from_slice(&query[12..question_end]);
            if listed {
                // The name by pointer to the question, type A, class IN, TTL 60, 127.0.0.2.
                answer.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2]);
            }
            let _ = socket.send_to(&answer, from);
        }
    });
    (port, asked)
}

/// The name a query asks for, and where its question ends.
fn question(query: &[u8]) -> Option<(String, usize)> {
    let mut labels = Vec::new();
    let mut i = 12;
    loop {
        let len = *query.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(i..i + len)?).into_owned());
        i += len;
    }
    Some((labels.join("."), i + 4))
}

fn config(port: u16) -> String {
    format!(
        "dnsbl_zones = [\"{ZONE}\"]\ndnsbl_server = \"127.0.0.1:{port}\"\ndnsbl_timeout_ms = 300\n"
    )
}

#[tokio::test]
async fn a_listed_address_is_refused_and_others_post() {
    let (port, asked) = start_blocklist();
    let s = Server::with_config(&config(port)).await;
    let r = post_as(
        &s,
        "192.0.2.66",
        "/api/boards/b/threads",
        json!({ "body": "spam" }),
    )
    .await;
    refused(&r, 403, "dnsbl_listed", None);
    assert!(r.json["error"]["message"].as_str().unwrap().contains(ZONE));
    let thread = created(
        &post_as(
            &s,
            "192.0.2.67",
            "/api/boards/b/threads",
            json!({ "body": "hi" }),
        )
        .await,
    );
    let path = format!("/api/boards/b/threads/{thread}/posts");
    created(&post_as(&s, "192.0.2.67", &path, json!({ "body": "again" })).await);
    let r = post_as(&s, "192.0.2.66", &path, json!({ "body": "spam" })).await;
    refused(&r, 403, "dnsbl_listed", None);
    // IPv6 is looked up by nibbles.
    created(&post_as(&s, "2001:db8::1", &path, json!({ "body": "six" })).await);
    // Reading needs no lookup.
    assert_eq!(s.get(&path.replace("/posts", "")).await.status, 200);
    let asked = asked.lock().unwrap().clone();
    let count = |name: &str| asked.iter().filter(|n| *n == name).count();
    assert_eq!(count(LISTED), 1, "answers are cached: {asked:?}");
    assert_eq!(count("67.2.0.192.bl.test"), 1, "{asked:?}");
    let v6 = format!("1.0.{}8.b.d.0.1.0.0.2.{ZONE}", "0.0.".repeat(11));
    assert_eq!(count(&v6), 1, "{asked:?}");
}

#[tokio::test]
async fn a_resolver_that_never_answers_lets_posts_through_with_a_warning() {
    // Bound and kept, but never read: queries to it go unanswered.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let s = Server::with_config(&config(port)).await;
    let r = post_as(
        &s,
        "192.0.2.66",
        "/api/boards/b/threads",
        json!({ "body": "hi" }),
    )
    .await;
    created(&r);
    assert_eq!(
        s.log_count("dnsbl_unavailable", 1).await,
        1,
        "{:?}",
        s.logs()
    );
    drop(silent);
}
