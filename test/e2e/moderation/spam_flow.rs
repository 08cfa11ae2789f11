//! The whole flow at once: a poster posts spam, a reader reports it, a moderator finds it in
//! the queue and bans the poster with a public mark from there, the poster is refused with the
//! reason, appeals, the moderator accepts and the poster posts again. The staff log holds each
//! step with its private note; the public log shows the same steps without it.

use crate::admin_boards::staff;

use super::*;

const SPAMMER: &str = "203.0.113.99";
const READER: &str = "198.51.100.20";
const REGULAR: &str = "192.0.2.30";
const NOTE: &str = "private: the same advert as on /u/";

#[tokio::test]
async fn spam_is_reported_banned_appealed_and_forgiven() {
    let s = Server::with_config(&config("")).await;
    let root = admin(&s).await;
    let moderator = staff(&s, &root, "mia", "board_mod", &["t"]).await;
    let op = thread_from(&s, REGULAR, "t", "a thread about tea").await;
    let spam = reply_from(&s, SPAMMER, "t", op, "cheap watches at example.com").await;

    let r = report_from(&s, READER, "t", spam, json!({"category": "spam"})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let queue = moderator.get(&s, "/api/boards/t/reports").await;
    assert_eq!(queue.json["count"], 1, "{}", queue.json);
    assert_eq!(queue.json["reports"][0]["no"], spam);
    assert_eq!(
        queue.json["reports"][0]["post"]["body"],
        "cheap watches at example.com"
    );

    // Banned from the queue, with the public mark on the post.
    let r = moderator
        .post(
            &s,
            &format!("/api/boards/t/reports/{spam}"),
            json!({"action": "ban", "duration": 86400, "reason": "Advertising",
                   "note": NOTE, "mark": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["handled"]["reports"], 1);
    let queue = moderator.get(&s, "/api/boards/t/reports").await;
    assert_eq!(queue.json["count"], 0);
    let post = s.get(&format!("/api/boards/t/posts/{spam}")).await;
    assert_eq!(
        post.json["post"]["banned_message"],
        "(USER WAS BANNED FOR THIS POST)"
    );

    // The poster is refused with the reason, and reads the ban.
    let path = format!("/api/boards/t/threads/{op}/posts");
    let refused = s
        .send(from(&s, SPAMMER, &path).json(&json!({"body": "buy more"})))
        .await;
    refused.assert_error(403, "banned");
    assert!(
        refused.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Advertising"),
        "{}",
        refused.json
    );
    let mine = s
        .get_with("/api/bans/mine", &[("x-forwarded-for", SPAMMER)])
        .await;
    assert_eq!(mine.json["banned"], true, "{}", mine.json);
    let id = mine.json["bans"][0]["id"].as_u64().unwrap();
    assert!(!mine.json.to_string().contains(NOTE), "{}", mine.json);
    let others = reply_from(&s, REGULAR, "t", op, "others still post").await;
    assert!(exists(&s, "t", others).await);

    // The appeal, and the moderator's yes.
    let r = s
        .send(
            from(&s, SPAMMER, &format!("/api/bans/{id}/appeal"))
                .json(&json!({"text": "I will stop advertising"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let appeals = moderator.get(&s, "/api/bans/appeals").await;
    assert_eq!(
        appeals.json["appeals"][0]["appeal"]["text"],
        "I will stop advertising"
    );
    let r = moderator
        .post(
            &s,
            &format!("/api/bans/{id}/appeal/accept"),
            json!({"answer": "One more chance"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let back = reply_from(&s, SPAMMER, "t", op, "about tea, then").await;
    assert!(exists(&s, "t", back).await);

    // The staff log, newest first: accepted, then the report handled and the ban it gave
    // (one transaction, the ban logged first), each by the moderator.
    let log = moderator.get(&s, "/api/modlog").await;
    let steps: Vec<(&str, &str)> = log.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"].as_str().unwrap_or(""),
            )
        })
        .take(3)
        .collect();
    assert_eq!(
        steps,
        [
            ("appeal_accept", "mia"),
            ("report_dismiss", "mia"),
            ("ban", "mia")
        ],
        "{}",
        log.json
    );
    let entries = log.json["entries"].as_array().unwrap();
    assert_eq!(entries[0]["change"]["ban"], entries[2]["change"]["ban"]);
    assert_eq!(entries[1]["change"]["action"], "ban");
    assert_eq!(entries[1]["change"]["no"], spam);
    assert_eq!(entries[2]["reason"], "Advertising");
    assert_eq!(entries[2]["note"], NOTE);
    assert_eq!(
        entries[2]["change"]["post"],
        json!({"board": "t", "no": spam})
    );

    // The public log: the same steps with the public reason, nothing private.
    let public = s.get("/api/boards/t/modlog").await;
    assert_eq!(public.status, 200, "{}", public.json);
    let actions: Vec<&str> = public.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .take(3)
        .collect();
    assert_eq!(actions, ["appeal_accept", "report_dismiss", "ban"]);
    assert_eq!(public.json["entries"][2]["reason"], "Advertising");
    let text = public.json.to_string();
    for private in [NOTE, "mia", SPAMMER, READER] {
        assert!(!text.contains(private), "{private} in {text}");
    }
}
