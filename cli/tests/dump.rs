//! `strata dump`: snapshots written from the replayed history pass the drift check, are
//! byte-stable, load on both engines, and bad requests are refused with a clear message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn strata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("STRATA_CHECK_POSTGRES")
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

/// A copy of the example tree to write snapshots into.
fn example_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/schema");
    copy_dir(&src, &dir.path().join("schema"));
    let root = dir.path().join("schema");
    (dir, root)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap()
}

#[test]
fn sqlite_snapshot_passes_the_drift_check_and_is_byte_stable() {
    let (_d, root) = example_copy();
    let r = root.to_str().unwrap();
    let out = strata(&["dump", "--version", "14", r, "--engine", "sqlite"]);
    assert!(out.status.success(), "{}", text(&out));
    let main = read(&root, "main/full_schemas/14/01_schema.sql.sqlite");
    let common = read(&root, "common/full_schemas/14/01_schema.sql.sqlite");
    // The built-in background index of version 12 is part of the snapshot; common's table
    // and seed rows are in common's file only.
    assert!(
        main.contains("CREATE INDEX events_room_origin_ts ON events(room_id, origin_server_ts);"),
        "{main}"
    );
    assert!(main.contains("INSERT INTO stream_positions"), "{main}");
    assert!(!main.contains("instance_settings"), "{main}");
    assert!(
        common.contains("CREATE TABLE instance_settings"),
        "{common}"
    );
    assert!(common.contains("'public_baseurl'"), "{common}");
    assert!(!main.contains("strata_"), "strata's own tables stay out");

    let check = strata(&["check", r]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains("0 errors, 0 warnings"),
        "{}",
        text(&check)
    );

    // Dumping again gives the same bytes.
    let again = strata(&[
        "dump",
        "--version",
        "14",
        r,
        "--engine",
        "sqlite",
        "--force",
    ]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        read(&root, "main/full_schemas/14/01_schema.sql.sqlite"),
        main
    );

    // The drift check really compares it: without the background index it fails.
    let tampered = main.replace(
        "CREATE INDEX events_room_origin_ts ON events(room_id, origin_server_ts);\n",
        "",
    );
    assert_ne!(tampered, main);
    std::fs::write(
        root.join("main/full_schemas/14/01_schema.sql.sqlite"),
        tampered,
    )
    .unwrap();
    let drift = strata(&["check", r]);
    assert_eq!(drift.status.code(), Some(1), "{}", text(&drift));
    assert!(
        text(&drift).contains("index events_room_origin_ts"),
        "{}",
        text(&drift)
    );
}

#[test]
fn refusals_name_the_fix() {
    let (_d, root) = example_copy();
    let r = root.to_str().unwrap();
    let exists = strata(&["dump", "--version", "10", r, "--engine", "sqlite"]);
    assert_eq!(exists.status.code(), Some(2));
    assert!(
        text(&exists).contains("already exists") && text(&exists).contains("--force"),
        "{}",
        text(&exists)
    );
    let beyond = strata(&["dump", "--version", "99", r, "--engine", "sqlite"]);
    assert_eq!(beyond.status.code(), Some(1));
    assert!(
        text(&beyond).contains("beyond the tree's newest version, 15"),
        "{}",
        text(&beyond)
    );
    let pg = strata(&["dump", "--version", "14", r]);
    assert_eq!(pg.status.code(), Some(2));
    assert!(text(&pg).contains("--postgres URL"), "{}", text(&pg));
    // Nothing was written by the refused commands.
    assert!(!root.join("main/full_schemas/14").exists());
    assert!(!root.join("main/full_schemas/99").exists());
}

#[test]
fn postgres_snapshot_loads_passes_the_checks_and_is_byte_stable() {
    let Some(url) = strata_runtime::testing::postgres_url("postgres_snapshot_loads") else {
        return;
    };
    let (_d, root) = example_copy();
    let r = root.to_str().unwrap();
    let out = strata(&["dump", "--version", "14", r, "--postgres", &url]);
    assert!(out.status.success(), "{}", text(&out));
    let main = read(&root, "main/full_schemas/14/01_schema.sql.postgres");
    assert!(
        main.contains(
            "CREATE INDEX events_room_origin_ts ON events USING btree (room_id, origin_server_ts);"
        ),
        "{main}"
    );
    assert!(
        main.contains("CREATE FUNCTION room_stats_on_membership()"),
        "{main}"
    );
    assert!(
        !main.contains("public.") && !main.contains("\nSET "),
        "{main}"
    );
    assert!(!main.contains("strata_"), "{main}");
    let state = read(&root, "state/full_schemas/14/01_schema.sql.postgres");
    assert!(state.contains("CREATE TABLE state_groups"), "{state}");
    let check = strata(&["check", r, "--postgres", &url]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains("0 errors, 0 warnings"),
        "{}",
        text(&check)
    );
    let again = strata(&["dump", "--version", "14", r, "--postgres", &url, "--force"]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        read(&root, "main/full_schemas/14/01_schema.sql.postgres"),
        main
    );
}
