//! End to end: the example application's binary (`cargo run --example chat`), its main job
//! and its embedded command line, on SQLite files and on PostgreSQL.
//!
//! `cargo test` builds the examples next to the test binaries; these tests run that build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn chat_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir
        .join("examples")
        .join(format!("chat{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run these tests with `cargo test`, which builds the examples",
        bin.display()
    );
    bin
}

fn chat(data: &Path, database_url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(chat_binary());
    cmd.args(args)
        .env("CHAT_DATA_DIR", data)
        .env_remove("DATABASE_URL");
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.output().expect("run the chat example")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn main_job_on_two_sqlite_files_then_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = chat(dir.path(), None, &[]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for expected in [
        "migrate: main new -> 15",
        "migrate: state new -> 15",
        "main: apply 15/02_displayname_whitespace",
        "data: 20 users, 300 rooms, 6000 events, 40 event reports (10 duplicates)",
        "gate: background updates not completed yet: event_reports_unique_idx",
        "rooms_last_activity_ts_backfill: 20 of 300 item(s)",
        "background: rooms_last_activity_ts_backfill: completed (300 item(s))",
        "upserts enabled (a repeated report inserted 0 row(s); 30 reports)",
        "status: background updates all completed",
    ] {
        assert!(t.contains(expected), "missing `{expected}` in:\n{t}");
    }
    // Two files, one store each (with common).
    let main = rusqlite::Connection::open(dir.path().join("main.db")).unwrap();
    let state = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    assert_eq!(
        count(
            &main,
            "SELECT count(*) FROM strata_schema_version WHERE store IN ('main', 'common')"
        ),
        2
    );
    assert_eq!(
        count(
            &state,
            "SELECT count(*) FROM strata_schema_version WHERE store IN ('state', 'common')"
        ),
        2
    );
    assert_eq!(
        count(
            &main,
            "SELECT count(*) FROM sqlite_schema WHERE name = 'state_groups'"
        ),
        0
    );
    // The backfill, the duplicate removal and the unique index all happened.
    assert_eq!(
        count(
            &main,
            "SELECT count(*) FROM rooms WHERE last_activity_ts IS NULL"
        ),
        0
    );
    assert_eq!(count(&main, "SELECT count(*) FROM event_reports"), 30);
    assert_eq!(
        count(
            &main,
            "SELECT count(*) FROM sqlite_schema WHERE name = 'event_reports_event_user'"
        ),
        1
    );
    assert_eq!(
        count(
            &main,
            "SELECT count(*) FROM strata_applied_deltas WHERE name = '02_displayname_whitespace'"
        ),
        1
    );

    let again = chat(dir.path(), None, &[]);
    let t = text(&again);
    assert!(again.status.success(), "{t}");
    assert!(
        t.contains("migrate: up to date") && t.contains("data: already there"),
        "{t}"
    );
    assert!(!t.contains("apply "), "{t}");
}

#[test]
fn embedded_cli_runs_the_code_delta_and_the_application_handler() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = chat(d, None, &["migrate", "--to", "14"]);
    assert!(out.status.success(), "{}", text(&out));
    let status = chat(d, None, &["status"]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status));
    assert!(
        text(&status).contains("pending 15/02_displayname_whitespace"),
        "{}",
        text(&status)
    );

    // Data the code delta of version 15 cleans up.
    let main = rusqlite::Connection::open(d.join("main.db")).unwrap();
    main.execute_batch(
        "INSERT INTO users (name, creation_ts, displayname) VALUES ('@a:x', 0, '  Ada \t\n Lovelace '), ('@b:x', 0, 'Bob');
         INSERT INTO rooms (room_id, created_ts) VALUES ('!r:x', 0);
         INSERT INTO events (stream_ordering, topological_ordering, event_id, room_id, type, sender, origin_server_ts, received_ts, event_json)
             VALUES (1, 1, '$1', '!r:x', 'm.room.message', '@a:x', 1234, 1234, '{}');",
    )
    .unwrap();
    let out = chat(d, None, &["migrate"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("main 14 -> 15"), "{t}");
    let name: String = main
        .query_row(
            "SELECT displayname FROM users WHERE name = '@a:x'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(name, "Ada Lovelace");

    // bg run with the application's handler: the backfill runs, not just the built-ins.
    let bg = chat(d, None, &["bg", "status"]);
    assert_eq!(bg.status.code(), Some(3), "{}", text(&bg));
    let run = chat(d, None, &["bg", "run"]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        text(&run).contains("all background updates completed"),
        "{}",
        text(&run)
    );
    let ts: i64 = main
        .query_row(
            "SELECT last_activity_ts FROM rooms WHERE room_id = '!r:x'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ts, 1234);
    let status = chat(d, None, &["status", "--format", "json"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json[0]["stores"][1]["version"], 15);

    let help = chat(d, None, &["migrate", "--help"]);
    assert!(
        text(&help).contains("chat migrate --to 14"),
        "{}",
        text(&help)
    );
}

#[test]
fn embedded_plan_and_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // plan: every step with its SQL, the code delta named; nothing applied.
    let plan = chat(d, None, &["plan"]);
    let t = text(&plan);
    assert!(plan.status.success(), "{t}");
    assert!(t.contains("-- main: load snapshot 10"), "{t}");
    assert!(
        t.contains("-- main: delta 15/01_event_reports_unique"),
        "{t}"
    );
    assert!(
        t.contains("-- code delta main/delta/15/02_displayname_whitespace.rs"),
        "{t}"
    );
    let status = chat(d, None, &["status", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        json[0]["stores"][1]["version"],
        serde_json::Value::Null,
        "{json}"
    );
    // --sql: one script, which stops before the code delta (SQL cannot run Rust).
    let sql = chat(d, None, &["plan", "--sql"]);
    assert_eq!(sql.status.code(), Some(1), "{}", text(&sql));
    assert!(
        text(&sql).contains("02_displayname_whitespace.rs"),
        "{}",
        text(&sql)
    );
    // baseline: adopt the databases at 14 without running anything.
    let adopt = chat(d, None, &["baseline", "--version", "14"]);
    let t = text(&adopt);
    assert!(adopt.status.success(), "{t}");
    assert!(t.contains("adopted at version 14"), "{t}");
    let status = chat(d, None, &["status", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json[0]["stores"][1]["version"], 14, "{json}");
    assert_eq!(
        json[0]["stores"][1]["pending"],
        serde_json::json!(["15/01_event_reports_unique", "15/02_displayname_whitespace"])
    );
    let again = chat(d, None, &["baseline", "--version", "14"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
}

#[test]
fn main_job_on_postgres() {
    let Some(pg) = strata::testing::PostgresTestDb::empty("example_app_on_postgres") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = chat(dir.path(), Some(&pg.url), &[]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("(main, state)") && t.contains("migrate: state new -> 15"),
        "{t}"
    );
    assert!(t.contains("upserts enabled"), "{t}");
    assert!(
        !dir.path().join("main.db").exists(),
        "no SQLite file with DATABASE_URL"
    );
    let mut client = pg.client();
    let reports: i64 = client
        .query_one("SELECT count(*) FROM event_reports", &[])
        .unwrap()
        .get(0);
    assert_eq!(reports, 30);
    let valid: bool = client
        .query_one(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'event_reports_event_user'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(valid);
    let status = chat(dir.path(), Some(&pg.url), &["status"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
}
