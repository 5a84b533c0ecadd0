//! Several processes migrating one database at once: every delta applied exactly once,
//! every migrator succeeds. The test binary re-runs itself as the child processes.

mod common;

use std::path::Path;
use std::process::Command;

use strata::Migrator;
use strata::driver::postgres::PostgresDriver;
use strata::driver::sqlite::SqliteDriver;
use strata::testing::PostgresTestDb;

const CHILD_SQLITE: &str = "STRATA_TEST_CHILD_SQLITE";
const CHILD_POSTGRES: &str = "STRATA_TEST_CHILD_POSTGRES";

/// The entry point of the child processes: migrates the database the parent names in the
/// environment. Run directly (no such variable), it has nothing to do.
#[test]
fn child_process_entry_point() {
    let plan = common::example_plan();
    if let Ok(path) = std::env::var(CHILD_SQLITE) {
        let mut conn = rusqlite::Connection::open(path).unwrap();
        let mut db = SqliteDriver::new(&mut conn).unwrap();
        Migrator::new(&plan).apply(&mut db).expect("child migrates");
    }
    if let Ok(url) = std::env::var(CHILD_POSTGRES) {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut db = PostgresDriver::new(&mut client);
        Migrator::new(&plan).apply(&mut db).expect("child migrates");
    }
}

fn run_children(var: &str, value: &str) {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "child_process_entry_point", "--test-threads=1"])
                .env(var, value)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a child migrator failed");
    }
}

fn expected_deltas() -> i64 {
    let plan = common::example_plan();
    plan.stores
        .iter()
        .chain(plan.common.as_ref())
        .map(|s| s.deltas.iter().filter(|d| d.version > 10).count() as i64)
        .sum()
}

#[test]
fn processes_on_one_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    run_children(CHILD_SQLITE, path.to_str().unwrap());
    let conn = rusqlite::Connection::open(Path::new(&path)).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM strata_applied_deltas", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, expected_deltas());
}

#[test]
fn processes_on_one_postgres_database() {
    let Some(db) = PostgresTestDb::empty("processes_on_one_postgres_database") else {
        return;
    };
    run_children(CHILD_POSTGRES, &db.url);
    let n: i64 = db
        .client()
        .query_one("SELECT count(*) FROM strata_applied_deltas", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, expected_deltas());
}
