//! Real cargo builds of a small crate using `include_migrations!`: warnings show in
//! `cargo build` on stable, editing a tree file rebuilds, and adding one rebuilds with the
//! documented build-script line.

use std::fs;
use std::path::Path;
use std::process::Command;

fn cargo(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/rebuild-probe");
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn edits_and_new_files_rebuild_and_warnings_show() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("Cargo.toml"),
        format!(
            "[package]\nname = \"rebuild-probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[dependencies]\nstrata = {{ path = {:?} }}\n\n[build-dependencies]\nstrata-schema = {{ path = {:?} }}\n\n[workspace]\n",
            root,
            root.join("schema")
        ),
    )
    .unwrap();
    // Same lock file as the workspace: the probe reuses its resolved versions.
    fs::copy(root.join("Cargo.lock"), d.join("Cargo.lock")).unwrap();
    fs::write(
        d.join("build.rs"),
        "fn main() { strata_schema::build::watch_tree(\"schema\"); }\n",
    )
    .unwrap();
    fs::create_dir_all(d.join("src")).unwrap();
    fs::write(
        d.join("src/main.rs"),
        "static M: strata::Migrations = strata::include_migrations!(\"schema\");\nfn main() {\n    let s = &M.stores[0];\n    let n: usize = s.deltas.iter().flat_map(|d| d.bodies()).map(|b| b.statements.len()).sum();\n    println!(\"{} {}\", M.target_version, n);\n}\n",
    )
    .unwrap();
    fs::create_dir_all(d.join("schema/delta/1")).unwrap();
    fs::write(
        d.join("schema/delta/1/01_a.sql"),
        "CREATE TABLE a (created_ts INT);\n",
    )
    .unwrap();

    let (ok, out, err) = cargo(d, &["run", "--quiet", "--offline"]);
    assert!(ok, "{err}");
    // Two engines, one statement each.
    assert_eq!(out.trim(), "1 2");
    assert!(
        err.contains("P208 postgres-int-timestamp"),
        "warning not shown:\n{err}"
    );
    assert!(err.contains("delta/1/01_a.sql:1:17"), "{err}");

    // Editing a file of the tree rebuilds.
    fs::write(
        d.join("schema/delta/1/01_a.sql"),
        "CREATE TABLE a (created_ts BIGINT);\nCREATE TABLE b (x BIGINT);\n",
    )
    .unwrap();
    let (ok, out, err) = cargo(d, &["run", "--quiet", "--offline"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "1 4");
    assert!(!err.contains("P208"), "{err}");

    // Adding a file rebuilds too (the build-script line).
    fs::create_dir_all(d.join("schema/delta/2")).unwrap();
    fs::write(
        d.join("schema/delta/2/01_c.sql"),
        "CREATE TABLE c (x BIGINT);\n",
    )
    .unwrap();
    let (ok, out, err) = cargo(d, &["run", "--quiet", "--offline"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "2 6");
}
