//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use strata::Migrations;

/// The example chat tree.
pub fn example_tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/chat/schema")
}

strata::include_migrations!(pub mod chat = "examples/chat/schema");

/// The example chat tree's plan, compiled in: its code delta (version 15) has its function,
/// as in the example application. (A plan loaded from disk stops before it.)
pub fn example_plan() -> Migrations {
    chat::MIGRATIONS.clone()
}

/// Writes `files` (path, contents) under `root`.
pub fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
}

/// Loads the plan of the tree at `root`, panicking with the rendered diagnostics if the
/// tree has errors.
pub fn plan(root: &Path) -> Migrations {
    let (report, plan) = strata::schema::load_plan(root, &Default::default()).unwrap();
    plan.unwrap_or_else(|| panic!("tree has errors:\n{}", report.render()))
}

/// A tree written to a fresh temp dir, and its plan.
pub fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Migrations) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    let p = plan(dir.path());
    (dir, p)
}
