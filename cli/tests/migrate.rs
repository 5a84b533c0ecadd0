//! End-to-end tests of `strata migrate`, `status`, `plan` and `baseline` (the real binary)
//! against SQLite files and the local PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn strata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run strata")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/schema")
}

#[test]
fn migrate_then_status_on_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("chat.db").display());
    let tree = example();
    let tree = tree.to_str().unwrap();
    let before = strata(&["status", tree, "--database", &url]);
    assert_eq!(before.status.code(), Some(3), "{}", text(&before));
    assert!(
        text(&before).contains("pending 11/01_event_reports"),
        "{}",
        text(&before)
    );
    // Up to 14: version 15 has a code delta, which only the application can run.
    let out = strata(&["migrate", tree, "--to", "14", "--database", &url]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("main new -> 14"), "{}", text(&out));
    assert!(text(&out).contains("applied 14 delta(s)"), "{}", text(&out));
    let again = strata(&["migrate", tree, "--to", "14", "--database", &url]);
    assert!(
        text(&again).contains("applied 0 delta(s)"),
        "{}",
        text(&again)
    );
    let status = strata(&["status", tree, "--database", &url, "--format", "json"]);
    // Background updates are still pending: that is pending work too.
    assert_eq!(status.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let main = &json[0]["stores"][1];
    assert_eq!(main["store"], "main");
    assert_eq!(main["version"], 14);
    assert_eq!(main["snapshot_version"], 10);
    assert_eq!(
        main["pending"],
        serde_json::json!(["15/01_event_reports_unique", "15/02_displayname_whitespace"])
    );
    assert_eq!(
        json[0]["pending_background_updates"][0],
        "events_origin_ts_idx"
    );
}

#[test]
fn stores_in_separate_files() {
    let dir = tempfile::tempdir().unwrap();
    let main = format!("main=sqlite:{}", dir.path().join("main.db").display());
    let state = format!("state=sqlite:{}", dir.path().join("state.db").display());
    let tree = example();
    let out = strata(&[
        "migrate",
        tree.to_str().unwrap(),
        "--to",
        "14",
        "--store-database",
        &main,
        "--store-database",
        &state,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // `common` runs once per physical database: both files have it.
    for f in ["main.db", "state.db"] {
        let conn = rusqlite::Connection::open(dir.path().join(f)).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM instance_settings", [], |r| r.get(0))
            .unwrap();
        assert!(n >= 1, "{f}");
    }
    let missing = strata(&["migrate", tree.to_str().unwrap(), "--store-database", &main]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing).contains("no database for store `state`"),
        "{}",
        text(&missing)
    );
}

/// Stops before the code delta of version 15, naming it.
fn assert_stopped_at_code_delta(o: &Output) {
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
    assert!(
        text(o).contains("main/delta/15/02_displayname_whitespace.rs"),
        "{}",
        text(o)
    );
}

#[test]
fn offline_sql_script_is_what_migrate_would_record() {
    let tree = example();
    let out = strata(&[
        "plan",
        tree.to_str().unwrap(),
        "--sql",
        "--engine",
        "sqlite",
    ]);
    // The script goes up to the code delta, and says so.
    assert_stopped_at_code_delta(&out);
    assert!(
        text(&out).contains("SQL cannot run Rust code"),
        "{}",
        text(&out)
    );
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("15/01_event_reports_unique"), "{script}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("by_hand.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&script)
        .unwrap();
    let url = format!("sqlite:{}", path.display());
    let status = strata(&[
        "status",
        tree.to_str().unwrap(),
        "--database",
        &url,
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    for store in json[0]["stores"].as_array().unwrap() {
        let pending: &[serde_json::Value] = if store["store"] == "main" {
            &[serde_json::json!("15/02_displayname_whitespace")]
        } else {
            &[]
        };
        assert_eq!(store["pending"].as_array().unwrap(), pending, "{store}");
        assert!(store["problem"].is_null(), "{store}");
    }
    // The generic binary applies nothing more: it stops before the code delta.
    let migrate = strata(&["migrate", tree.to_str().unwrap(), "--database", &url]);
    assert_stopped_at_code_delta(&migrate);
    assert!(text(&migrate).contains("embedded"), "{}", text(&migrate));
}

#[test]
fn generic_migrate_stops_before_a_code_delta() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("chat.db").display());
    let tree = example();
    let out = strata(&["migrate", tree.to_str().unwrap(), "--database", &url]);
    assert_stopped_at_code_delta(&out);
    // Everything before it was applied and recorded.
    let conn = rusqlite::Connection::open(dir.path().join("chat.db")).unwrap();
    let applied: i64 = conn
        .query_row(
            "SELECT count(*) FROM strata_applied_deltas WHERE store = 'main' AND version = 15",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(applied, 1);
}

#[test]
fn baseline_then_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    for (p, sql) in [
        ("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);"),
        ("delta/2/01_b.sql", "CREATE TABLE b (x BIGINT);"),
    ] {
        std::fs::create_dir_all(tree.join(p).parent().unwrap()).unwrap();
        std::fs::write(tree.join(p), sql).unwrap();
    }
    let db = dir.path().join("legacy.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE a (x BIGINT)")
        .unwrap();
    let url = format!("sqlite:{}", db.display());
    let t = tree.to_str().unwrap();
    let out = strata(&["baseline", "--version", "1", t, "--database", &url]);
    assert!(out.status.success(), "{}", text(&out));
    let out = strata(&["migrate", t, "--database", &url]);
    assert!(text(&out).contains("applied 1 delta(s)"), "{}", text(&out));
}

#[test]
fn passwords_never_appear() {
    let tree = example();
    let out = strata(&[
        "migrate",
        tree.to_str().unwrap(),
        "--database",
        "postgres://app:hunter2@127.0.0.1:1/nowhere",
    ]);
    assert_ne!(out.status.code(), Some(0));
    let t = text(&out);
    assert!(t.contains("app:***@"), "{t}");
    assert!(!t.contains("hunter2"), "{t}");
}

#[test]
fn migrate_and_status_on_postgres() {
    let Some(db) =
        strata_runtime::testing::PostgresTestDb::empty("cli_migrate_and_status_on_postgres")
    else {
        return;
    };
    let tree = example();
    let t = tree.to_str().unwrap();
    let out = strata(&["migrate", t, "--to", "14", "--database", &db.url]);
    assert!(out.status.success(), "{}", text(&out));
    let status = strata(&["status", t, "--database", &db.url, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json[0]["stores"][1]["version"], 14);
    // bg run: the built-in index (CREATE INDEX CONCURRENTLY), then a stop before the
    // update that needs the application's handler.
    let run = strata(&["bg", "run", t, "--database", &db.url]);
    let r = text(&run);
    assert_eq!(run.status.code(), Some(1), "{r}");
    assert!(
        r.contains("stopped before `rooms_last_activity_ts_backfill`"),
        "{r}"
    );
    let valid = db
        .client()
        .query(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'events_room_origin_ts'",
            &[],
        )
        .unwrap();
    assert_eq!(valid.len(), 1, "the built-in index was built");
    assert!(valid[0].get::<_, bool>(0));
}

#[test]
fn baseline_on_postgres() {
    let Some(db) = strata_runtime::testing::PostgresTestDb::empty("cli_baseline_on_postgres")
    else {
        return;
    };
    let tree = example();
    let t = tree.to_str().unwrap();
    let out = strata(&["baseline", "--version", "12", t, "--database", &db.url]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("adopted at version 12"),
        "{}",
        text(&out)
    );
    let status = strata(&["status", t, "--database", &db.url, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json[0]["stores"][1]["version"], 12);
    assert_eq!(
        json[0]["stores"][1]["pending"][0],
        "13/01_rooms_last_activity"
    );
    // Already managed: refused.
    let again = strata(&["baseline", "--version", "12", t, "--database", &db.url]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("already"), "{}", text(&again));
}

#[test]
fn offline_sql_script_runs_on_postgres() {
    let Some(db) =
        strata_runtime::testing::PostgresTestDb::empty("cli_offline_sql_script_runs_on_postgres")
    else {
        return;
    };
    let tree = example();
    let t = tree.to_str().unwrap();
    let out = strata(&["plan", t, "--sql", "--engine", "postgres"]);
    assert_stopped_at_code_delta(&out);
    db.client()
        .batch_execute(&String::from_utf8(out.stdout).unwrap())
        .unwrap();
    let status = strata(&["status", t, "--database", &db.url]);
    assert!(
        text(&status).contains("pending 15/02_displayname_whitespace"),
        "{}",
        text(&status)
    );
    let migrate = strata(&["migrate", t, "--database", &db.url]);
    assert_stopped_at_code_delta(&migrate);
}

#[test]
fn bg_status_and_run_builtin_updates_then_stop_before_application_handlers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let url = format!("sqlite:{}", db.display());
    let tree = example();
    let t = tree.to_str().unwrap();
    assert!(
        strata(&["migrate", t, "--to", "14", "--database", &url])
            .status
            .success()
    );
    let status = strata(&["bg", "status", t, "--database", &url]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status));
    let s = text(&status);
    assert!(
        s.contains("events_origin_ts_idx") && s.contains("built-in"),
        "{s}"
    );
    assert!(s.contains("waiting for events_origin_ts_idx"), "{s}");
    let run = strata(&["bg", "run", t, "--database", &url]);
    let r = text(&run);
    assert_eq!(run.status.code(), Some(1), "{r}");
    assert!(
        r.contains("stopped before `rooms_last_activity_ts_backfill`"),
        "{r}"
    );
    assert!(
        r.contains("main/delta/13/01_rooms_last_activity.sql"),
        "{r}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let index: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'events_room_origin_ts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 1, "the built-in index was built");
}

#[test]
fn new_creates_the_next_delta_in_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (p, sql) in [
        ("main/delta/3/01_a.sql", "CREATE TABLE a (x BIGINT);"),
        ("state/delta/3/02_b.sql", "CREATE TABLE b (x BIGINT);"),
    ] {
        std::fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
        std::fs::write(root.join(p), sql).unwrap();
    }
    let r = root.to_str().unwrap();
    let ambiguous = strata(&["new", "add_c", r]);
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(
        text(&ambiguous).contains("pass --store"),
        "{}",
        text(&ambiguous)
    );
    let out = strata(&["new", "add_c", r, "--store", "main", "--engine", "sqlite"]);
    assert!(out.status.success(), "{}", text(&out));
    // 02 is taken in version 3 (by state): names must not collide within a version.
    let created = root.join("main/delta/3/03_add_c.sql.sqlite");
    assert!(created.exists(), "{}", text(&out));
    assert!(
        std::fs::read_to_string(&created)
            .unwrap()
            .starts_with("-- Delta 3/03_add_c (sqlite only)")
    );
    // The new file keeps the tree clean.
    assert!(strata(&["check", r]).status.success());
    let bad = strata(&["new", "no spaces", r, "--store", "main"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn every_command_help_shows_examples() {
    let commands: &[&[&str]] = &[
        &[],
        &["check"],
        &["plan"],
        &["migrate"],
        &["status"],
        &["dump"],
        &["new"],
        &["baseline"],
        &["bg"],
        &["bg", "status"],
        &["bg", "run"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let out = strata(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}: {out:?}");
        // An example line that runs this very command.
        let example = match command {
            [] => "strata check".to_string(),
            _ => format!("strata {}", command.join(" ")),
        };
        assert!(
            text.contains("Example") && text.contains(&example),
            "{args:?} --help shows no `{example}` example:\n{text}"
        );
    }
}

#[test]
fn plan_shows_each_step_with_its_sql_and_applies_nothing() {
    let tree = example();
    let tree = tree.to_str().unwrap();
    // Offline: a fresh database of the engine.
    let fresh = strata(&["plan", tree, "--engine", "sqlite"]);
    assert!(fresh.status.success(), "{}", text(&fresh));
    let out = text(&fresh);
    assert!(out.contains("a fresh sqlite database: "), "{out}");
    assert!(out.contains("-- main: load snapshot 10"), "{out}");
    assert!(
        out.contains("-- main: delta 12/02_room_stats (main/delta/12/02_room_stats.sql.sqlite)"),
        "{out}"
    );
    assert!(
        out.contains("-- code delta main/delta/15/02_displayname_whitespace.rs"),
        "{out}"
    );
    assert!(out.contains("CREATE TABLE event_reports"), "{out}");
    // Against a database at 14: only what is left, and the database is unchanged.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("chat.db").display());
    let to14 = strata(&["migrate", tree, "--to", "14", "--database", &url]);
    assert!(to14.status.success(), "{}", text(&to14));
    let rest = strata(&["plan", tree, "--database", &url]);
    assert!(rest.status.success(), "{}", text(&rest));
    let out = text(&rest);
    assert!(!out.contains("load snapshot"), "{out}");
    assert!(!out.contains("delta 14/"), "{out}");
    assert!(
        out.contains("-- main: delta 15/01_event_reports_unique"),
        "{out}"
    );
    let status = strata(&["status", tree, "--database", &url, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json[0]["stores"][1]["version"], 14);
}
