//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use strata::Migrations;

/// The example chat tree.
pub fn example_tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/chat/schema")
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

/// The PostgreSQL server the tests use, or `None` (loudly) when there is none and it is not
/// required. `STRATA_REQUIRE_POSTGRES=1` (set by `.ci/run`) makes a missing server fail.
pub fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("STRATA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    match postgres::Client::connect(&url, postgres::NoTls) {
        Ok(_) => Some(url),
        Err(e) if std::env::var("STRATA_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("PostgreSQL is required (STRATA_REQUIRE_POSTGRES=1) but unreachable: {e}")
        }
        Err(e) => {
            eprintln!(
                "SKIPPED {test}: no PostgreSQL reachable ({e}); set STRATA_TEST_POSTGRES_URL"
            );
            None
        }
    }
}

/// A database of its own on the test server, dropped when this value is.
pub struct ScratchDb {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl ScratchDb {
    pub fn new(admin_url: &str, test: &str) -> ScratchDb {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "strata_test_{}_{}_{}",
            test,
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = postgres::Client::connect(admin_url, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap();
        // Keep the admin URL's authority and swap the database name.
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        ScratchDb {
            admin_url: admin_url.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}
