//! The runtime on the local PostgreSQL: each test uses a database of its own.

mod common;

use common::tree;
use strata::driver::postgres::PostgresDriver;
use strata::testing::PostgresTestDb;
use strata::{Error, Migrations, Migrator, Report};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn apply(db: &PostgresTestDb, plan: &Migrations) -> Result<Report, Error> {
    let mut client = db.client();
    let mut driver = PostgresDriver::new(&mut client);
    Migrator::new(plan).apply(&mut driver)
}

#[test]
fn example_tree_fresh_then_up_to_date() -> TestResult {
    let Some(db) = PostgresTestDb::empty("example_tree_fresh_then_up_to_date") else {
        return Ok(());
    };
    let plan = common::example_plan();
    let report = apply(&db, &plan)?;
    assert_eq!(report.snapshots.len(), 3);
    assert!(
        report.after.iter().all(|(_, v)| *v == 15),
        "{:?}",
        report.after
    );
    let mut client = db.client();
    let n: i64 = client
        .query_one("SELECT count(*) FROM strata_background_updates", &[])?
        .get(0);
    assert_eq!(n, 3);
    let trigger: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal",
            &[],
        )?
        .get(0);
    assert!(trigger >= 1);
    assert!(apply(&db, &plan)?.up_to_date);
    Ok(())
}

#[test]
fn concurrent_migrators_apply_each_delta_once() -> TestResult {
    let Some(db) = PostgresTestDb::empty("concurrent_migrators_apply_each_delta_once") else {
        return Ok(());
    };
    let plan = common::example_plan();
    let reports: Vec<Report> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| apply(&db, &plan).expect("every migrator succeeds")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total: usize = reports.iter().map(|r| r.applied.len()).sum();
    let mut client = db.client();
    let recorded: i64 = client
        .query_one("SELECT count(*) FROM strata_applied_deltas", &[])?
        .get(0);
    assert_eq!(total, recorded as usize);
    assert!(recorded > 5);
    Ok(())
}

/// An interrupted `CREATE INDEX CONCURRENTLY` leaves an INVALID index; the retry drops it
/// and builds it again.
#[test]
fn concurrent_index_retry_drops_the_invalid_leftover() -> TestResult {
    let Some(db) = PostgresTestDb::empty("concurrent_index_retry_drops_the_invalid_leftover")
    else {
        return Ok(());
    };
    let (_t, plan) = tree(&[
        ("strata.toml", "engines = [\"postgres\"]"),
        (
            "delta/1/01_t.sql",
            "CREATE TABLE t (a BIGINT);\nINSERT INTO t (a) VALUES (1), (1), (2);",
        ),
        (
            "delta/2/01_t_a.sql",
            "-- strata: no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY t_a ON t (a);",
        ),
    ]);
    let err = apply(&db, &plan).unwrap_err();
    assert!(
        matches!(&err, Error::DeltaFailed(f) if f.name == "01_t_a"),
        "{err}"
    );
    let mut client = db.client();
    let valid: bool = client
        .query_one(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 't_a'",
            &[],
        )?
        .get(0);
    assert!(!valid, "the failed build left an INVALID index");
    client.batch_execute("DELETE FROM t WHERE a = 1")?;
    let report = apply(&db, &plan)?;
    assert_eq!(report.applied, vec![("main".into(), 2, "01_t_a".into())]);
    let valid: bool = client
        .query_one(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 't_a'",
            &[],
        )?
        .get(0);
    assert!(valid);
    Ok(())
}

#[test]
fn failing_delta_on_postgres_keeps_earlier_ones() -> TestResult {
    let Some(db) = PostgresTestDb::empty("failing_delta_on_postgres_keeps_earlier_ones") else {
        return Ok(());
    };
    // Passes on SQLite, fails on PostgreSQL: TEXT into BIGINT without a cast.
    let (_t, plan) = tree(&[
        (
            "delta/1/01_a.sql",
            "CREATE TABLE a (v TEXT);\nINSERT INTO a VALUES ('1');",
        ),
        (
            "delta/1/02_b.sql",
            "CREATE TABLE b (v BIGINT);\nINSERT INTO b (v) SELECT v FROM a;",
        ),
    ]);
    let err = apply(&db, &plan).unwrap_err();
    let Error::DeltaFailed(f) = &err else {
        panic!("{err}")
    };
    assert_eq!((f.name.as_str(), f.statement), ("02_b", 2));
    assert_eq!(f.source.code.as_deref(), Some("42804"));
    let mut client = db.client();
    let b: Option<String> = client
        .query_one("SELECT to_regclass('b')::text", &[])?
        .get(0);
    assert_eq!(b, None, "the failed delta was rolled back whole");
    let applied: i64 = client
        .query_one("SELECT count(*) FROM strata_applied_deltas", &[])?
        .get(0);
    assert_eq!(applied, 1);
    Ok(())
}

/// `postgres::Client` panics inside a tokio runtime: async applications migrate in
/// `spawn_blocking` (the recipe the README shows).
#[test]
fn async_applications_migrate_in_spawn_blocking() -> TestResult {
    // The test database is made (and dropped) outside the runtime: its helper is blocking.
    let Some(db) = PostgresTestDb::empty("async_applications_migrate_in_spawn_blocking") else {
        return Ok(());
    };
    let url = db.url.clone();
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(async move {
        let plan = common::example_plan();
        tokio::task::spawn_blocking(move || -> Result<Report, String> {
            let mut client =
                postgres::Client::connect(&url, postgres::NoTls).map_err(|e| e.to_string())?;
            let mut driver = PostgresDriver::new(&mut client);
            Migrator::new(&plan)
                .apply(&mut driver)
                .map_err(|e| e.to_string())
        })
        .await
    })??;
    assert_eq!(report.snapshots.len(), 3);
    Ok(())
}
