//! Code deltas: compiled into the crate by `include_migrations!`, run in the migration's
//! transaction on both engines, refused by a plan loaded at run time.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use strata::driver::postgres::PostgresDriver;
use strata::driver::sqlite::SqliteDriver;
use strata::{Error, Migrator};

/// Read by the fixture's code delta: makes it fail (fault injection inside a code delta).
static FAIL_IN_CODE_DELTA: AtomicBool = AtomicBool::new(false);

static MIGRATIONS: strata::Migrations =
    strata::include_migrations!("tests/fixtures/code_delta", deny_warnings);

fn names(conn: &rusqlite::Connection) -> Vec<String> {
    conn.prepare("SELECT name FROM users ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn code_delta_runs_on_sqlite_and_a_failure_inside_it_rolls_back()
-> Result<(), Box<dyn std::error::Error>> {
    let mut conn = rusqlite::Connection::open_in_memory()?;
    {
        FAIL_IN_CODE_DELTA.store(true, Ordering::SeqCst);
        let mut db = SqliteDriver::new(&mut conn)?;
        let err = Migrator::new(&MIGRATIONS).apply(&mut db).unwrap_err();
        FAIL_IN_CODE_DELTA.store(false, Ordering::SeqCst);
        assert!(
            matches!(&err, Error::CodeDeltaFailed { name, .. } if name == "01_trim_names"),
            "{err}"
        );
        assert!(
            err.to_string().contains("delta/2/01_trim_names.rs"),
            "{err}"
        );
    }
    // Rolled back whole: names untouched, no audit table, version 1 recorded.
    assert_eq!(names(&conn), vec!["  alice ", "bob  ", "carol"]);
    let audit: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE name = 'name_audit'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(audit, 0);
    {
        let mut db = SqliteDriver::new(&mut conn)?;
        let report = Migrator::new(&MIGRATIONS).apply(&mut db)?;
        assert_eq!(report.applied.len(), 2);
    }
    assert_eq!(names(&conn), vec!["alice", "bob", "carol"]);
    let audited: i64 = conn.query_row("SELECT count(*) FROM name_audit", [], |r| r.get(0))?;
    assert_eq!(audited, 2);
    Ok(())
}

#[test]
fn code_delta_runs_on_postgres() -> Result<(), Box<dyn std::error::Error>> {
    let Some(db) = strata::testing::PostgresTestDb::empty("code_delta_runs_on_postgres") else {
        return Ok(());
    };
    let mut client = db.client();
    Migrator::new(&MIGRATIONS).apply(&mut PostgresDriver::new(&mut client))?;
    let names: Vec<String> = client
        .query("SELECT name FROM users ORDER BY id", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, vec!["alice", "bob", "carol"]);
    Ok(())
}

#[test]
fn plan_loaded_at_run_time_refuses_the_code_delta() {
    let loaded = common::plan(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/code_delta"),
    );
    // Same plan (code deltas compare by file and checksum)...
    assert_eq!(loaded, MIGRATIONS);
    // ...but it cannot run the Rust.
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    let mut db = SqliteDriver::new(&mut conn).unwrap();
    let err = Migrator::new(&loaded).apply(&mut db).unwrap_err();
    assert!(matches!(err, Error::CodeDeltaUnavailable { .. }), "{err}");
    assert!(err.to_string().contains("include_migrations!"), "{err}");
}
