//! Snapshots of rendered diagnostics: what users read.

use std::fs;

use strata_schema::CheckOptions;

fn render(files: &[(&str, &str)]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    let report = strata_schema::check(dir.path(), &CheckOptions::default()).unwrap();
    let plain = report
        .analysis
        .diagnostics
        .iter()
        .map(|d| d.to_plain(Some(&report.tree)))
        .collect::<Vec<_>>()
        .join("\n\n");
    (report.render(), plain)
}

#[test]
fn rendered_diagnostics() {
    let (human, plain) = render(&[
        (
            "main/delta/1/01_init.sql",
            "CREATE TABLE rooms (id TEXT PRIMARY KEY, created_ts INT);\nCREATE TABLE members (room_id TEXT REFERENCES rooms (id));\n",
        ),
        (
            "main/delta/2/01_change.sql",
            "ALTER TABLE rooms ALTER COLUMN created_ts SET NOT NULL;\nDROP TABLE rooms;\nTRUNCATE members\n",
        ),
        (
            "state/delta/2/02_x.sql",
            "CREATE TABLE g (id BIGINT);\nSELECT 1\nSELECT 2;\n",
        ),
    ]);
    insta::assert_snapshot!("human", human);
    insta::assert_snapshot!("plain", plain);
}

#[test]
fn drift_diagnostic() {
    let (human, _) = render(&[
        (
            "delta/1/01_t.sql",
            "CREATE TABLE t (a INT NOT NULL DEFAULT 0);",
        ),
        ("delta/2/01_i.sql", "CREATE INDEX t_a ON t (a);"),
        ("full_schemas/2/01.sql", "CREATE TABLE t (a INT);"),
    ]);
    insta::assert_snapshot!("drift", human);
}
