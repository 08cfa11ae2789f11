//! `wani user add`: through the running server, or on the database when none runs.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::harness::BIN;
use crate::session::{self, Session};

/// Runs `wani user add ARGS --data DIR`: exit code, stdout, stderr.
fn user_add(data: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(["user", "add"])
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("WANI_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The password printed by a successful `wani user add`.
#[track_caller]
fn password_of(stdout: &str, name: &str, role: &str) -> String {
    let prefix = format!("created {name} ({role}); password, shown only now: ");
    let password = stdout
        .trim_end()
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{stdout:?}"));
    assert!(password.len() >= 20, "{password}");
    password.to_owned()
}

#[tokio::test]
async fn accounts_are_added_through_the_running_server() {
    let server = session::server("").await;
    let (code, stdout, stderr) = user_add(
        &server.data_dir(),
        &["Mo", "--role", "board_mod", "--boards", "t"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let password = password_of(&stdout, "mo", "board_mod");
    let mo = Session::login(&server, "mo", &password).await;
    assert_eq!(
        mo.user,
        json!({ "username": "mo", "role": "board_mod", "boards": ["t"] })
    );
    let refused = [
        (&["mo", "--role", "user"][..], "taken"),
        (&["ann", "--role", "king"], "role `king`"),
        (&["ann", "--role", "board_mod", "--boards", "zz"], "/zz/"),
        (
            &["ann", "--role", "user", "--boards", "t"],
            "--boards is for",
        ),
        (&["a/b", "--role", "user"], "username"),
    ];
    for (args, needle) in refused {
        let (code, stdout, stderr) = user_add(&server.data_dir(), args);
        assert_eq!(code, Some(1), "{args:?}: {stdout}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
    }
    let (code, _, stderr) = user_add(&server.data_dir(), &["ann"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--role is needed"), "{stderr}");
}

#[tokio::test]
async fn accounts_are_added_on_the_database_when_no_server_runs() {
    let mut server = session::server("").await;
    server.stop();
    let (code, stdout, stderr) = user_add(&server.data_dir(), &["boss", "--role", "admin"]);
    assert_eq!(code, Some(0), "{stderr}");
    let password = password_of(&stdout, "boss", "admin");
    server.restart();
    let boss = Session::login(&server, "boss", &password).await;
    assert_eq!(boss.user["role"], "admin");
    let r = boss.get(&server, "/api/admin/users").await;
    assert_eq!(r.json["users"][0]["username"], "boss");
}
