//! End-to-end tests of `strata check` (the real binary).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn strata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env_remove("STRATA_CHECK_POSTGRES")
        .output()
        .expect("run strata")
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/schema")
}

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    dir
}

#[test]
fn example_tree_is_clean() {
    let out = strata(&["check", example().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("0 errors, 0 warnings"), "{stderr}");
}

#[test]
fn errors_exit_1_and_json_has_the_documented_fields() {
    let dir = tree(&[
        (
            "delta/1/01_t.sql",
            "CREATE TABLE t (a INT);\n\nTRUNCATE t;\n",
        ),
        ("delta/1/02_ts.sql", "CREATE TABLE e (origin_ts INT);\n"),
    ]);
    let out = strata(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), 2, "{json:#}");
    let truncate = &items[0];
    assert_eq!(truncate["code"], "S107");
    assert_eq!(truncate["severity"], "error");
    assert_eq!(truncate["file"], "delta/1/01_t.sql");
    assert_eq!(truncate["line"], 3);
    assert_eq!(truncate["column"], 1);
    assert_eq!(truncate["engine"], "sqlite");
    assert!(truncate["help"].as_str().unwrap().contains("DELETE FROM"));
    assert_eq!(items[1]["severity"], "warning");
    assert_eq!(items[1]["engine"], "postgres");
}

#[test]
fn warnings_alone_exit_0_and_engine_filter_applies() {
    let dir = tree(&[("delta/1/01_t.sql", "CREATE TABLE e (origin_ts INT);\n")]);
    let out = strata(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("warning[P208 postgres-int-timestamp]"),
        "{human}"
    );
    assert!(human.contains("delta/1/01_t.sql:1:17"), "{human}");
    let out = strata(&["check", dir.path().to_str().unwrap(), "--engine", "sqlite"]);
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
}

#[test]
fn unreadable_tree_exits_2() {
    let out = strata(&["check", "/nonexistent/strata-tree"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

/// A TEXT-to-BIGINT `INSERT ... SELECT` passes on SQLite and fails on PostgreSQL: only the
/// PostgreSQL execution check catches it, at the right line, and leaves no database behind.
#[test]
fn postgres_execution_check() {
    let Some(url) = strata_runtime::testing::postgres_url("postgres_execution_check") else {
        return;
    };
    let dir = tree(&[
        (
            "delta/1/01_a.sql",
            "CREATE TABLE a (v TEXT);\nINSERT INTO a VALUES ('1');\n",
        ),
        (
            "delta/2/01_b.sql",
            "CREATE TABLE b (v BIGINT);\n\nINSERT INTO b (v) SELECT v FROM a;\n",
        ),
    ]);
    let path = dir.path().to_str().unwrap();
    assert_eq!(strata(&["check", path]).status.code(), Some(0));
    let out = strata(&["check", path, "--postgres", &url, "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &json.as_array().unwrap()[0];
    assert_eq!(d["code"], "X001");
    assert_eq!(d["engine"], "postgres");
    assert_eq!(d["file"], "delta/2/01_b.sql");
    assert_eq!(d["line"], 3);
    assert!(d["message"].as_str().unwrap().contains("bigint"), "{d}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("postgres://"));
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'strata_check_%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "scratch databases left behind");
    // The example tree runs on PostgreSQL too.
    let out = strata(&["check", example().to_str().unwrap(), "--postgres", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
