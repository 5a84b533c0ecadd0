//! Every lint fires on its bad case and stays silent on the nearest good case.
//!
//! Each case is a small tree written to a temp dir: a setup delta in version 1 and the delta
//! under test in version 2, then checked as `strata check` would.

use std::fs;
use std::path::Path;

use strata_schema::{CheckOptions, Diagnostic};

/// Writes `files` (path, contents) under a temp dir and checks it.
fn check(files: &[(&str, &str)]) -> Vec<Diagnostic> {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), files);
    strata_schema::check(dir.path(), &CheckOptions::default())
        .expect("tree readable")
        .analysis
        .diagnostics
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
}

fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.lint.code).collect()
}

const SETUP: &str = "CREATE TABLE t (a INT, b TEXT);\nCREATE TABLE p (id BIGINT PRIMARY KEY);\n";

/// Checks `delta` (file name under delta/2/) on top of SETUP, with an optional manifest.
fn delta(manifest: &str, name: &str, sql: &str) -> Vec<Diagnostic> {
    let path = format!("delta/2/{name}");
    let mut files = vec![("delta/1/01_setup.sql", SETUP), (path.as_str(), sql)];
    if !manifest.is_empty() {
        files.push(("strata.toml", manifest));
    }
    check(&files)
}

#[track_caller]
fn fires(code: &str, manifest: &str, name: &str, sql: &str) -> Diagnostic {
    let d = delta(manifest, name, sql);
    d.iter()
        .find(|d| d.lint.code == code)
        .cloned()
        .unwrap_or_else(|| panic!("{code} did not fire on {name}: {sql}\ngot {:?}", codes(&d)))
}

#[track_caller]
fn silent(code: &str, manifest: &str, name: &str, sql: &str) {
    let d = delta(manifest, name, sql);
    assert!(
        !codes(&d).contains(&code),
        "{code} fired on good case {name}: {sql}\n{d:#?}"
    );
}

#[test]
fn s101_sqlite_alter_column() {
    let d = fires(
        "S101",
        "",
        "01_x.sql",
        "ALTER TABLE t ALTER COLUMN a TYPE BIGINT;",
    );
    assert_eq!(d.location.unwrap().position.line, 1);
    fires(
        "S101",
        "",
        "01_x.sql",
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1;",
    );
    fires(
        "S101",
        "",
        "01_x.sql",
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
    );
    // SET NOT NULL exists from SQLite 3.53 on.
    silent(
        "S101",
        "min_sqlite = \"3.53\"",
        "01_x.sql",
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
    );
    fires(
        "S101",
        "min_sqlite = \"3.53\"",
        "01_x.sql",
        "ALTER TABLE t ALTER COLUMN a DROP DEFAULT;",
    );
    silent("S101", "", "01_x.sql", "ALTER TABLE t ADD COLUMN c BIGINT;");
}

#[test]
fn s102_sqlite_add_constraint() {
    fires(
        "S102",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);",
    );
    silent(
        "S102",
        "min_sqlite = \"3.53\"",
        "01_x.sql",
        "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);",
    );
}

#[test]
fn s103_sqlite_alter_add_key() {
    fires(
        "S103",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);",
    );
    fires(
        "S103",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id);",
    );
    silent("S103", "", "01_x.sql", "CREATE UNIQUE INDEX t_a ON t (a);");
}

#[test]
fn s104_sqlite_add_column() {
    fires(
        "S104",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD COLUMN c BIGINT NOT NULL;",
    );
    fires(
        "S104",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD COLUMN c BIGINT DEFAULT CURRENT_TIMESTAMP;",
    );
    fires(
        "S104",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD COLUMN c BIGINT UNIQUE;",
    );
    silent(
        "S104",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD COLUMN c BIGINT NOT NULL DEFAULT 0;",
    );
}

#[test]
fn s105_sqlite_multiple_alter() {
    fires(
        "S105",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD COLUMN c INT, ADD COLUMN d INT;",
    );
    silent(
        "S105",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD COLUMN c INT;\nALTER TABLE t ADD COLUMN d INT;",
    );
}

#[test]
fn s106_sqlite_concurrently_and_p207() {
    fires(
        "S106",
        "",
        "01_x.sql",
        "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
    );
    let sql = "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);";
    silent("S106", "", "01_x.sql.postgres", sql);
    silent("P207", "", "01_x.sql.postgres", sql);
    fires(
        "P207",
        "",
        "01_x.sql.postgres",
        "CREATE INDEX CONCURRENTLY i ON t (a);",
    );
}

#[test]
fn s107_sqlite_truncate() {
    fires("S107", "", "01_x.sql", "TRUNCATE t;");
    silent("S107", "", "01_x.sql", "DELETE FROM t;");
}

#[test]
fn s108_sqlite_serial() {
    fires(
        "S108",
        "",
        "01_x.sql",
        "CREATE TABLE s (id SERIAL PRIMARY KEY);",
    );
    silent(
        "S108",
        "",
        "01_x.sql.sqlite",
        "CREATE TABLE s (id INTEGER PRIMARY KEY);",
    );
}

#[test]
fn s109_sqlite_sequence() {
    fires("S109", "", "01_x.sql", "CREATE SEQUENCE s;");
    silent("S109", "", "01_x.sql.postgres", "CREATE SEQUENCE s;");
}

#[test]
fn s110_sqlite_cast_operator() {
    let d = fires("S110", "", "01_x.sql", "SELECT\n  '1'::BIGINT;");
    assert_eq!(d.location.unwrap().position.line, 2);
    silent("S110", "", "01_x.sql", "SELECT CAST('1' AS BIGINT);");
}

#[test]
fn s111_sqlite_drop_column_in_use() {
    fires(
        "S111",
        "",
        "01_x.sql",
        "CREATE INDEX t_a ON t (a);\nALTER TABLE t DROP COLUMN a;",
    );
    fires(
        "S111",
        "",
        "01_x.sql",
        "CREATE VIEW v AS SELECT a FROM t;\nALTER TABLE t DROP COLUMN a;",
    );
    silent(
        "S111",
        "",
        "01_x.sql",
        "CREATE INDEX t_a ON t (a);\nDROP INDEX t_a;\nALTER TABLE t DROP COLUMN a;",
    );
}

#[test]
fn p201_to_p206_postgres_bound() {
    fires(
        "P201",
        "",
        "01_x.sql",
        "INSERT OR IGNORE INTO p (id) VALUES (1);",
    );
    silent(
        "P201",
        "",
        "01_x.sql",
        "INSERT INTO p (id) VALUES (1) ON CONFLICT (id) DO NOTHING;",
    );
    fires("P202", "", "01_x.sql", "REPLACE INTO p (id) VALUES (1);");
    silent(
        "P202",
        "",
        "01_x.sql.sqlite",
        "REPLACE INTO p (id) VALUES (1);",
    );
    fires(
        "P203",
        "",
        "01_x.sql",
        "CREATE TABLE s (id INTEGER PRIMARY KEY AUTOINCREMENT);",
    );
    silent(
        "P203",
        "",
        "01_x.sql.sqlite",
        "CREATE TABLE s (id INTEGER PRIMARY KEY AUTOINCREMENT);",
    );
    fires("P204", "", "01_x.sql", "PRAGMA user_version = 3;");
    silent("P204", "", "01_x.sql.sqlite", "PRAGMA user_version = 3;");
    fires(
        "P205",
        "",
        "01_x.sql",
        "CREATE TABLE s (k TEXT PRIMARY KEY) WITHOUT ROWID;",
    );
    silent(
        "P205",
        "",
        "01_x.sql",
        "CREATE TABLE s (k TEXT PRIMARY KEY);",
    );
    fires("P206", "", "01_x.sql", "CREATE TABLE s (data BLOB);");
    silent(
        "P206",
        "",
        "01_x.sql.postgres",
        "CREATE TABLE s (data BYTEA);",
    );
}

#[test]
fn p208_int_timestamp() {
    fires(
        "P208",
        "",
        "01_x.sql",
        "CREATE TABLE e (origin_server_ts INT);",
    );
    fires(
        "P208",
        "",
        "01_x.sql",
        "ALTER TABLE t ADD COLUMN duration_ms INTEGER;",
    );
    silent(
        "P208",
        "",
        "01_x.sql",
        "CREATE TABLE e (origin_server_ts BIGINT);",
    );
}

#[test]
fn p209_blocking_index() {
    fires("P209", "", "01_x.sql", "CREATE INDEX t_a ON t (a);");
    silent(
        "P209",
        "",
        "01_x.sql",
        "CREATE TABLE n (a INT);\nCREATE INDEX n_a ON n (a);",
    );
}

#[test]
fn p210_alter_type() {
    fires(
        "P210",
        "",
        "01_x.sql.postgres",
        "ALTER TABLE t ALTER COLUMN a TYPE BIGINT;",
    );
    silent(
        "P210",
        "",
        "01_x.sql.postgres",
        "ALTER TABLE t ADD COLUMN a_big BIGINT;",
    );
}

#[test]
fn p211_fk_not_valid() {
    fires(
        "P211",
        "",
        "01_x.sql.postgres",
        "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id);",
    );
    silent(
        "P211",
        "",
        "01_x.sql.postgres",
        "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id) NOT VALID;",
    );
}

#[test]
fn g301_transaction_control() {
    fires("G301", "", "01_x.sql", "BEGIN;\nDELETE FROM t;\nCOMMIT;");
    fires(
        "G301",
        "",
        "01_x.sql.sqlite",
        "BEGIN IMMEDIATE;\nDELETE FROM t;\nEND TRANSACTION;",
    );
    silent("G301", "", "01_x.sql", "DELETE FROM t;");
}

#[test]
fn g302_drop_referenced_table() {
    let setup = "CREATE TABLE c (p_id BIGINT REFERENCES p (id));";
    fires("G302", "", "01_x.sql", &format!("{setup}\nDROP TABLE p;"));
    silent(
        "G302",
        "",
        "01_x.sql",
        &format!("{setup}\nDROP TABLE c;\nDROP TABLE p;"),
    );
    silent(
        "G302",
        "",
        "01_x.sql",
        &format!("{setup}\nDROP TABLE c, p;"),
    );
    // The SQLite rebuild recipe drops the old parent with foreign keys off; the foreign-key
    // check after the delta judges the result.
    let rebuild = "-- strata: foreign-keys-off\nCREATE TABLE c (p_id BIGINT REFERENCES p (id));\nCREATE TABLE p_new (id BIGINT PRIMARY KEY);\nINSERT INTO p_new SELECT id FROM p;\nDROP TABLE p;\nALTER TABLE p_new RENAME TO p;";
    silent("G302", "", "01_x.sql.sqlite", rebuild);
    silent("X002", "", "01_x.sql.sqlite", rebuild);
}

#[test]
fn g303_drop_before_compat() {
    let d = fires("G303", "compat_version = 1", "01_x.sql", "DROP TABLE t;");
    assert_eq!(d.severity, strata_schema::Severity::Warning);
    fires(
        "G303",
        "compat_version = 1",
        "01_x.sql",
        "ALTER TABLE t DROP COLUMN b;",
    );
    silent("G303", "compat_version = 2", "01_x.sql", "DROP TABLE t;");
}

#[test]
fn g304_unknown_table() {
    let d = fires("G304", "", "01_x.sql", "INSERT INTO nope (a) VALUES (1);");
    assert_eq!(d.location.unwrap().position.column, 13);
    silent(
        "G304",
        "external_tables = [\"nope\"]",
        "01_x.sql",
        "INSERT INTO nope (a) VALUES (1);",
    );
    // Foreign keys may name tables created later (SQLite allows it).
    silent(
        "G304",
        "",
        "01_x.sql",
        "CREATE TABLE c (x BIGINT REFERENCES later (id));\nCREATE TABLE later (id BIGINT PRIMARY KEY);",
    );
    silent(
        "G304",
        "",
        "01_x.sql",
        "WITH w AS (SELECT a FROM t) INSERT INTO t (a) SELECT a FROM w;",
    );
}

#[test]
fn g305_unknown_column() {
    fires("G305", "", "01_x.sql", "INSERT INTO t (zz) VALUES (1);");
    fires(
        "G305",
        "",
        "01_x.sql",
        "CREATE TABLE n (a INT);\nCREATE INDEX n_z ON n (z);",
    );
    fires("G305", "", "01_x.sql", "UPDATE t SET zz = 1;");
    silent(
        "G305",
        "",
        "01_x.sql",
        "INSERT INTO t (a) VALUES (1);\nUPDATE t SET b = 'x';",
    );
}

#[test]
fn g306_wrong_store_and_g307_unknown_dependency() {
    let d = check(&[
        (
            "main/delta/1/01_users.sql",
            "CREATE TABLE users (id BIGINT PRIMARY KEY);",
        ),
        (
            "state/delta/1/02_groups.sql",
            "CREATE TABLE state_groups (id BIGINT PRIMARY KEY);",
        ),
        (
            "main/delta/2/01_bad.sql",
            "INSERT INTO state_groups (id) VALUES (1);",
        ),
        ("common/delta/2/02_bad.sql", "DELETE FROM users;"),
        (
            "main/delta/2/03_bg.sql",
            "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('b', '{}', 'missing', 203);",
        ),
    ]);
    let wrong: Vec<_> = d.iter().filter(|d| d.lint.code == "G306").collect();
    assert_eq!(wrong.len(), 2, "{d:#?}");
    assert!(
        wrong[0].message.contains("belongs to store `main`"),
        "{}",
        wrong[0].message
    );
    assert!(
        wrong[1].message.contains("belongs to store `state`"),
        "{}",
        wrong[1].message
    );
    assert!(codes(&d).contains(&"G307"), "{d:#?}");
    let schedule = |name: &str, dep: &str| {
        format!(
            "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('{name}', '{{}}', '{dep}', 100);"
        )
    };
    let (a, b) = (schedule("a", "b"), schedule("b", "a"));
    let d = check(&[
        ("delta/1/01_a.sql", a.as_str()),
        ("delta/1/02_b.sql", b.as_str()),
    ]);
    let cycles: Vec<_> = d.iter().filter(|d| d.lint.code == "G308").collect();
    assert_eq!(cycles.len(), 1, "{d:#?}");
    assert!(
        cycles[0].message.contains("`a`, `b`"),
        "{}",
        cycles[0].message
    );
    // Pointed at the scheduling statement, not at the top of its file.
    let at = cycles[0].location.as_ref().unwrap();
    assert_eq!(
        (at.file.as_str(), at.position.line),
        ("delta/1/01_a.sql", 1)
    );
}

#[test]
fn g307_a_dependency_in_another_store_is_not_in_this_database() {
    let schedule = |name: &str, dep: &str| {
        let dep = if dep.is_empty() {
            "NULL".to_string()
        } else {
            format!("'{dep}'")
        };
        format!(
            "-- the update\n\nINSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('{name}', '{{}}', {dep}, 100);"
        )
    };
    let (a, b, c, s) = (
        schedule("a", ""),
        schedule("b", "a"),
        schedule("c", ""),
        schedule("s", "c"),
    );
    let d = check(&[
        ("main/delta/1/01_a.sql", a.as_str()),
        ("state/delta/1/02_b.sql", b.as_str()),
        ("common/delta/1/03_c.sql", c.as_str()),
        ("state/delta/1/04_s.sql", s.as_str()),
    ]);
    let g307: Vec<_> = d.iter().filter(|d| d.lint.code == "G307").collect();
    // `b` (state) on `a` (main): refused. `s` (state) on `c` (common, in every database): fine.
    assert_eq!(g307.len(), 1, "{d:#?}");
    assert!(
        g307[0]
            .message
            .contains("`b` (store `state`) depends on `a`, which store `main` schedules"),
        "{}",
        g307[0].message
    );
    let at = g307[0].location.as_ref().unwrap();
    assert_eq!(
        (at.file.as_str(), at.position.line, at.position.column),
        ("state/delta/1/02_b.sql", 3, 1)
    );
}

#[test]
fn q001_to_q003_statements() {
    let d = fires("Q001", "", "01_x.sql.sqlite", "CREATE TABEL s (a INT);");
    assert!(d.message.contains("SQLite rejects"), "{}", d.message);
    let d = fires(
        "Q002",
        "",
        "01_x.sql.postgres",
        "CREATE SEQUENCE s;\nALTER SEQUENCE s OWNED BY t.a;",
    );
    assert_eq!(d.location.unwrap().position.line, 2);
    silent(
        "Q002",
        "",
        "01_x.sql.postgres",
        "CREATE SEQUENCE s;\n-- strata: unchecked\nALTER SEQUENCE s OWNED BY t.a;",
    );
    let d = fires("Q003", "", "01_x.sql", "DELETE FROM t\nDELETE FROM p;");
    assert_eq!(d.location.unwrap().position.line, 2);
}

#[test]
fn x001_execution_and_x002_foreign_keys() {
    let d = fires("X001", "", "01_x.sql", "ALTER TABLE t ADD COLUMN a INT;");
    assert!(d.message.contains("duplicate column"), "{}", d.message);
    silent("X001", "", "01_x.sql", "ALTER TABLE t ADD COLUMN c INT;");
    let orphan = "-- strata: foreign-keys-off\nCREATE TABLE c (p_id BIGINT REFERENCES p (id));\nINSERT INTO c VALUES (7);";
    fires("X002", "", "01_x.sql.sqlite", orphan);
    // The same insert with foreign keys on is an execution error instead.
    fires(
        "X001",
        "",
        "01_x.sql.sqlite",
        "CREATE TABLE c (p_id BIGINT REFERENCES p (id));\nINSERT INTO c VALUES (7);",
    );
}

#[test]
fn x003_snapshot_drift() {
    let base = [
        ("delta/1/01_t.sql", "CREATE TABLE t (a INT);"),
        (
            "delta/2/01_idx.sql",
            "CREATE INDEX t_a ON t (a) WHERE a > 0;",
        ),
        ("delta/2/02_seed.sql", "INSERT INTO t (a) VALUES (1);"),
    ];
    let mut good = base.to_vec();
    good.push((
        "full_schemas/2/01.sql",
        "CREATE TABLE t (a INT);\nCREATE INDEX t_a ON t (a) WHERE a > 0;\nINSERT INTO t (a) VALUES (1);",
    ));
    let d = check(&good);
    assert!(!codes(&d).contains(&"X003"), "{d:#?}");
    let mut bad = base.to_vec();
    bad.push((
        "full_schemas/2/01.sql",
        "CREATE TABLE t (a INT);\nCREATE INDEX t_a ON t (a);",
    ));
    let d = check(&bad);
    let drift = d
        .iter()
        .find(|d| d.lint.code == "X003")
        .expect("drift reported");
    assert!(
        drift.notes.iter().any(|n| n.contains("WHERE a > 0")),
        "{drift:#?}"
    );
    assert!(
        drift.notes.iter().any(|n| n.contains("rows t")),
        "{drift:#?}"
    );
}

#[test]
fn old_deltas_below_the_snapshot_are_only_linted() {
    let d = check(&[
        // Written against a base the tree no longer has: no "unknown table" for it.
        (
            "delta/5/01_old.sql",
            "ALTER TABLE ancient ADD COLUMN x INT;\nTRUNCATE ancient;",
        ),
        ("full_schemas/6/01.sql", "CREATE TABLE t (a INT);"),
        ("delta/7/01_new.sql", "INSERT INTO t (a) VALUES (1);"),
    ]);
    assert_eq!(codes(&d), vec!["S107"], "{d:#?}");
}

#[test]
fn allow_directive_silences_by_code_or_name() {
    silent(
        "S107",
        "",
        "01_x.sql",
        "-- strata: allow(S107)\nTRUNCATE t;",
    );
    silent(
        "S107",
        "",
        "01_x.sql",
        "DELETE FROM p;\n-- strata: allow(sqlite-truncate)\nTRUNCATE t;",
    );
}

#[test]
fn tree_diagnostics() {
    let d = check(&[
        ("main/delta/1/01_a.sql", "CREATE TABLE a (x INT);"),
        ("main/delta/1/01_a.sql.sqlite", "CREATE TABLE a (x INT);"),
        ("main/delta/2/01_b.psql", "SELECT 1;"),
        ("main/delta/v3/01_c.sql", "SELECT 1;"),
        ("main/delta/04/01_d.sql", "SELECT 1;"),
        ("main/delta/4/01_e.sql", "SELECT 1;"),
        ("main/delta/5/01_empty.sql", "  \n"),
        ("main/delta/5/02_x.sql", "SELECT 1;"),
        ("state/delta/5/02_x.sql", "SELECT 1;"),
        ("main/notes.txt", "hello"),
        (
            "main/delta/6/01_nt.sql.postgres",
            "-- strata: no-transaction\nSELECT 1;\nSELECT 2;",
        ),
        ("main/delta/6/02_bad.sql", "-- strata: nope\nSELECT 1;"),
        ("strata.toml", "engines = [\"sqlite\", \"postgres\"]\n"),
    ]);
    let c = codes(&d);
    for expected in [
        "T008", "T001", "T002", "T003", "T005", "T009", "T011", "T012", "T013",
    ] {
        assert!(c.contains(&expected), "{expected} missing from {c:?}");
    }
    let d = check(&[
        ("delta/1/01_a.sql.postgres", "SELECT 1;"),
        ("strata.toml", "engines = [\"sqlite\"]"),
    ]);
    assert_eq!(codes(&d), vec!["T014"]);
    let d = check(&[
        ("delta/1/01_a.sql", "SELECT 1;"),
        ("strata.toml", "engine = [\"sqlite\"]"),
    ]);
    let m = d
        .iter()
        .find(|d| d.lint.code == "T010")
        .expect("bad manifest");
    assert_eq!(m.location.as_ref().unwrap().file, "strata.toml");
    let d = check(&[("delta/07/01_a.sql", "SELECT 1;")]);
    assert_eq!(codes(&d), vec!["T004"]);
}

#[test]
fn non_utf8_and_links_leaving_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("delta/1/01_a.sql", "SELECT 1;")]);
    fs::write(
        dir.path().join("delta/1/02_latin1.sql"),
        b"SELECT 'caf\xe9';",
    )
    .unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();
    fs::write(outside.path(), "SELECT 1;").unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("delta/1/03_link.sql")).unwrap();
    let report = strata_schema::check(dir.path(), &CheckOptions::default()).unwrap();
    let c = codes(&report.analysis.diagnostics);
    assert!(c.contains(&"T006") && c.contains(&"T007"), "{c:?}");
}

#[test]
fn code_delta_effect_is_checked_in_its_place() {
    // The effect declares the table, so later SQL using it is checked against it.
    let d = check(&[
        ("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);"),
        ("delta/2/01_fill.rs", "pub fn migrate() {}"),
        (
            "delta/2/01_fill.schema.sql",
            "CREATE TABLE made_by_code (x BIGINT);",
        ),
        (
            "delta/2/02_use.sql",
            "INSERT INTO made_by_code (x) VALUES (1);",
        ),
    ]);
    assert!(d.is_empty(), "{d:#?}");
    // Without it, the history does not know the table.
    let d = check(&[
        ("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);"),
        ("delta/2/01_fill.rs", "pub fn migrate() {}"),
        (
            "delta/2/02_use.sql",
            "INSERT INTO made_by_code (x) VALUES (1);",
        ),
    ]);
    assert!(codes(&d).contains(&"G304"), "{d:#?}");
    // An effect without its code delta.
    let d = check(&[("delta/1/01_x.schema.sql", "CREATE TABLE t (x BIGINT);")]);
    assert_eq!(codes(&d), vec!["T016"]);
}

#[test]
fn missing_common_snapshot_part() {
    let d = check(&[
        (
            "common/full_schemas/1/01.sql",
            "CREATE TABLE settings (k TEXT);",
        ),
        ("main/full_schemas/1/01.sql", "CREATE TABLE u (a INT);"),
        ("main/full_schemas/2/01.sql", "CREATE TABLE u (a INT);"),
    ]);
    assert!(codes(&d).contains(&"T015"), "{d:#?}");
}

#[test]
fn p212_postgres_too_new() {
    let sql = "CREATE UNIQUE INDEX t_a ON t (a) NULLS NOT DISTINCT;";
    let d = fires("P212", "", "01_x.sql.postgres", sql);
    assert!(d.message.contains("PostgreSQL 15"), "{}", d.message);
    silent("P212", "min_postgres = 15", "01_x.sql.postgres", sql);
}

#[test]
fn builtin_background_index_is_part_of_the_replayed_history() {
    let schedule = "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('t_a_idx', '{\"builtin\": \"index\", \"index\": \"t_a\", \"table\": \"t\", \"columns\": [\"a\"]}', NULL, 201);";
    let base = [
        ("delta/1/01_t.sql", "CREATE TABLE t (a BIGINT);"),
        ("delta/2/01_t_a.sql", schedule),
    ];
    // A snapshot at 2 includes the index the background update builds.
    let mut with_index = base.to_vec();
    with_index.push((
        "full_schemas/2/01.sql",
        "CREATE TABLE t (a BIGINT);\nCREATE INDEX t_a ON t (a);",
    ));
    let d = check(&with_index);
    assert!(d.is_empty(), "{d:#?}");
    let mut without = base.to_vec();
    without.push(("full_schemas/2/01.sql", "CREATE TABLE t (a BIGINT);"));
    let d = check(&without);
    let drift = d.iter().find(|d| d.lint.code == "X003").expect("drift");
    assert!(
        drift
            .notes
            .iter()
            .any(|n| n.contains("index t_a: only in the deltas")),
        "{drift:#?}"
    );
    // A built-in whose description is incomplete.
    let bad = "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('x', '{\"builtin\": \"index\"}', NULL, 201);";
    let d = check(&[
        ("delta/1/01_t.sql", "CREATE TABLE t (a BIGINT);"),
        ("delta/2/01_x.sql", bad),
    ]);
    assert!(codes(&d).contains(&"G309"), "{d:#?}");
}
