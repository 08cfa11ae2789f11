//! The board options behind names, ids, deletion, the archive and recent posts, as the board
//! JSON reports them.

use super::*;

const OPTIONS: [&str; 5] = [
    "forced_anon",
    "poster_ids",
    "delete_window_secs",
    "archive_days",
    "show_in_recent",
];

fn options(board: &Value) -> Vec<Value> {
    OPTIONS.iter().map(|o| board[o].clone()).collect()
}

#[tokio::test]
async fn board_json_reports_the_new_options() {
    let s = Server::start().await;
    let b = s.get("/api/boards/b").await;
    assert_eq!(b.status, 200, "{}", b.json);
    assert_eq!(
        options(&b.json["board"]),
        [
            json!(false),
            json!(false),
            json!(3600),
            json!(7),
            json!(true)
        ],
        "the defaults: {}",
        b.json
    );

    let config = board("d", "")
        + &board(
            "x",
            "forced_anon = true\nposter_ids = true\ndelete_window_secs = 0\n\
             archive_days = 0\nshow_in_recent = false",
        )
        + &board("y", "delete_window_secs = 90\narchive_days = 30");
    let s = Server::with_config(&config).await;
    let expected = [
        (
            "d",
            [
                json!(false),
                json!(false),
                json!(3600),
                json!(7),
                json!(true),
            ],
        ),
        (
            "x",
            [json!(true), json!(true), json!(0), json!(0), json!(false)],
        ),
        (
            "y",
            [
                json!(false),
                json!(false),
                json!(90),
                json!(30),
                json!(true),
            ],
        ),
    ];
    let list = s.get("/api/boards").await.json;
    for (i, (slug, values)) in expected.iter().enumerate() {
        let one = s.get(&format!("/api/boards/{slug}")).await;
        assert_eq!(one.status, 200, "{}", one.json);
        assert_eq!(
            options(&one.json["board"]),
            values,
            "/{slug}/: {}",
            one.json
        );
        assert_eq!(
            list["boards"][i], one.json["board"],
            "the list shows /{slug}/ the same"
        );
    }
}
