//! The runtime on real SQLite files: the algorithm, every refusal, faults and concurrency.

mod common;

use std::path::Path;

use common::{plan, tree, write};
use rusqlite::Connection;
use strata::driver::sqlite::SqliteDriver;
use strata::plan::{Body, BodyInput, Scripts, TableBuilder, leak_list};
use strata::test_utils::{Call, Hooked};
use strata::{ChecksumPolicy, DriverError, Error, Migrations, Migrator, Options, Report};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn apply(path: &Path, plan: &Migrations) -> Result<Report, Error> {
    apply_with(path, plan, Options::default())
}

fn apply_with(path: &Path, plan: &Migrations, options: Options) -> Result<Report, Error> {
    let mut conn = Connection::open(path).unwrap();
    let mut db = SqliteDriver::new(&mut conn)?;
    Migrator::with_options(plan, options).apply(&mut db)
}

/// Schema (sqlite_schema SQL), bookkeeping of deltas, and row counts: what "the same
/// database" means for the fault-injection test.
fn normalised(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut out: Vec<String> = conn
        .prepare("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in tables {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
            .unwrap();
        out.push(format!("rows {t} {n}"));
    }
    let applied: Vec<String> = conn
        .prepare("SELECT store || '/' || version || '/' || name || ' ' || checksum FROM strata_applied_deltas ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    out.extend(applied);
    out
}

#[test]
fn example_tree_fresh_then_up_to_date() -> TestResult {
    let plan = common::example_plan();
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("chat.db");
    let report = apply(&db, &plan)?;
    assert_eq!(
        report.snapshots,
        vec![
            ("common".to_string(), 10),
            ("main".to_string(), 10),
            ("state".to_string(), 10)
        ]
    );
    // Deltas above the snapshot only, common first within each version.
    assert!(report.applied.iter().all(|(_, v, _)| *v > 10));
    assert_eq!(
        report.applied[0],
        ("common".into(), 11, "01_settings_public_baseurl".into())
    );
    assert!(
        report.after.iter().all(|(_, v)| *v == 15),
        "{:?}",
        report.after
    );
    let conn = Connection::open(&db)?;
    let scheduled: i64 =
        conn.query_row("SELECT count(*) FROM strata_background_updates", [], |r| {
            r.get(0)
        })?;
    assert_eq!(scheduled, 3);
    let upgraded: bool = conn.query_row(
        "SELECT upgraded FROM strata_schema_version WHERE store = 'main'",
        [],
        |r| r.get(0),
    )?;
    assert!(upgraded);
    drop(conn);
    let again = apply(&db, &plan)?;
    assert!(again.up_to_date);
    assert!(again.applied.is_empty());
    Ok(())
}

#[test]
fn up_to_date_check_reads_one_row_per_store() -> TestResult {
    let plan = common::example_plan();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("chat.db");
    apply(&path, &plan)?;
    let mut conn = Connection::open(&path)?;
    let mut inner = SqliteDriver::new(&mut conn)?;
    let mut calls = Vec::new();
    let mut db = Hooked {
        inner: &mut inner,
        hook: |c: Call<'_>| {
            calls.push(format!("{c:?}"));
            Ok(())
        },
    };
    assert!(Migrator::new(&plan).apply(&mut db)?.up_to_date);
    // One existence check, then one version row per store (common, main, state): no scan
    // of the applied deltas, whatever the history length.
    assert_eq!(calls, vec!["Other", "Version", "Version", "Version"]);
    Ok(())
}

#[test]
fn late_delta_in_current_version_runs_older_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("tree");
    let db = dir.path().join("db.sqlite");
    write(
        &root,
        &[
            ("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);"),
            ("delta/2/01_b.sql", "CREATE TABLE b (x BIGINT);"),
        ],
    );
    apply(&db, &plan(&root))?;
    // A late addition to the current version's folder runs.
    write(
        &root,
        &[("delta/2/02_late.sql", "CREATE TABLE late (x BIGINT);")],
    );
    let report = apply(&db, &plan(&root))?;
    assert_eq!(report.applied, vec![("main".into(), 2, "02_late".into())]);
    // One in an older version is never skipped silently.
    write(
        &root,
        &[("delta/1/02_old.sql", "CREATE TABLE old (x BIGINT);")],
    );
    let err = apply(&db, &plan(&root)).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::LateDelta {
                version: 1,
                db_version: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("move it to delta/2/"), "{err}");
    Ok(())
}

#[test]
fn changed_checksum_is_an_error_or_a_warning() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("tree");
    let db = dir.path().join("db.sqlite");
    write(&root, &[("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);")]);
    apply(&db, &plan(&root))?;
    // Whitespace and comments do not change the checksum...
    write(
        &root,
        &[(
            "delta/1/01_a.sql",
            "-- the first table\nCREATE TABLE a (\n  x BIGINT\n);",
        )],
    );
    assert!(apply(&db, &plan(&root)).is_ok());
    // ...an added statement does.
    write(
        &root,
        &[(
            "delta/1/01_a.sql",
            "CREATE TABLE a (x BIGINT);\nCREATE INDEX a_x ON a (x);",
        )],
    );
    let err = apply(&db, &plan(&root)).unwrap_err();
    assert!(
        matches!(&err, Error::ChecksumMismatch { name, .. } if name == "01_a"),
        "{err}"
    );
    assert!(err.to_string().contains("delta/1/01_a.sql"), "{err}");
    let report = apply_with(
        &db,
        &plan(&root),
        Options {
            checksum_policy: ChecksumPolicy::Warn,
            ..Options::default()
        },
    )?;
    assert_eq!(report.warnings.len(), 1);
    Ok(())
}

#[test]
fn recorded_delta_missing_from_the_code_says_the_binary_is_stale() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("db.sqlite");
    let (_t1, newer) = tree(&[
        ("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);"),
        ("delta/1/02_b.sql", "CREATE TABLE b (x BIGINT);"),
    ]);
    apply(&db, &newer)?;
    let (_t2, older) = tree(&[("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);")]);
    let err = apply(&db, &older).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownDelta { name, .. } if name == "02_b"),
        "{err}"
    );
    assert!(err.to_string().contains("stale"), "{err}");
    Ok(())
}

#[test]
fn newer_database_is_refused_unless_compat_allows() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_old_tree, old) = tree(&[("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);")]);
    let v2 = [
        ("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);"),
        ("delta/2/01_b.sql", "CREATE TABLE b (x BIGINT);"),
    ];
    // Version 2 raises the compat version to 2 (the default): version-1 code is refused.
    let strict = dir.path().join("strict.db");
    apply(&strict, &tree(&v2).1)?;
    let err = apply(&strict, &old).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DatabaseTooNew {
                db_version: 2,
                db_compat: 2,
                code_version: 1,
                ..
            }
        ),
        "{err}"
    );
    // Version 2 declares that version-1 code still works with it: a rollback is fine.
    let mut lenient_tree = v2.to_vec();
    lenient_tree.push(("strata.toml", "compat_version = 1"));
    let lenient = dir.path().join("lenient.db");
    apply(&lenient, &tree(&lenient_tree).1)?;
    assert!(apply(&lenient, &old)?.up_to_date);
    Ok(())
}

#[test]
fn failing_delta_keeps_the_ones_before_and_reruns_after_a_fix() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("tree");
    let db = dir.path().join("db.sqlite");
    write(
        &root,
        &[
            ("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);"),
            (
                "delta/1/02_b.sql",
                "CREATE TABLE b (x BIGINT);\nINSERT INTO b (x) VALUES (1);",
            ),
            ("delta/1/03_c.sql", "CREATE TABLE c (x BIGINT);"),
        ],
    );
    let good = plan(&root);
    // The same tree with a statement that passes the check but fails on this database.
    let mut broken = good.clone();
    let mut table = TableBuilder::default();
    for (i, d) in good.stores[0].deltas.iter().enumerate() {
        let bodies: Vec<Body> = d.bodies().collect();
        let mut statements: Vec<Vec<&str>> = bodies.iter().map(|b| b.statements.to_vec()).collect();
        if i == 1 {
            statements[0][1] = "INSERT INTO b (x) VALUES (1, 2)";
        }
        let inputs: Vec<BodyInput> = bodies
            .iter()
            .zip(&statements)
            .map(|(b, s)| BodyInput {
                engine: b.engine,
                file: b.file,
                statements: s,
                no_transaction: b.no_transaction,
                foreign_keys_off: b.foreign_keys_off,
                checksum: b.checksum,
                concurrent_index: b.concurrent_index,
            })
            .collect();
        table.push_sql(d.version, d.name, &inputs);
    }
    let len = table.len();
    let mut stores = broken.stores.to_vec();
    stores[0].deltas = Scripts::new(table.finish(), 0, len);
    broken.stores = leak_list(stores);
    let err = apply(&db, &broken).unwrap_err();
    let Error::DeltaFailed(f) = &err else {
        panic!("{err}")
    };
    assert_eq!((f.name.as_str(), f.statement), ("02_b", 2));
    assert!(err.to_string().contains("delta/1/02_b.sql"), "{err}");
    let conn = Connection::open(&db)?;
    let applied: Vec<String> = conn
        .prepare("SELECT name FROM strata_applied_deltas ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    assert_eq!(applied, vec!["01_a"]);
    let b_exists: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE name = 'b'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(
        b_exists, 0,
        "the failed delta's first statement was rolled back"
    );
    drop(conn);
    let report = apply(&db, &good)?;
    assert_eq!(report.applied.len(), 2);
    Ok(())
}

#[test]
fn foreign_keys_off_delta_with_violations_is_rolled_back() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("db.sqlite");
    let (_t, p) = tree(&[
        (
            "delta/1/01_a.sql",
            "CREATE TABLE p (id BIGINT PRIMARY KEY);\nCREATE TABLE c (p_id BIGINT REFERENCES p (id));",
        ),
        // A rebuild of p that forgets to copy its rows: c's row is orphaned.
        (
            "delta/1/02_rebuild.sql.sqlite",
            "-- strata: foreign-keys-off\n-- strata: allow(X002)\nINSERT INTO p (id) VALUES (1);\nINSERT INTO c (p_id) VALUES (1);\nCREATE TABLE p_new (id BIGINT PRIMARY KEY);\nDROP TABLE p;\nALTER TABLE p_new RENAME TO p;",
        ),
        ("strata.toml", "engines = [\"sqlite\"]"),
    ]);
    let err = apply(&db, &p).unwrap_err();
    assert!(
        matches!(&err, Error::ForeignKeyViolations { name, .. } if name == "02_rebuild"),
        "{err}"
    );
    let conn = Connection::open(&db)?;
    let rows: i64 = conn.query_row("SELECT count(*) FROM p", [], |r| r.get(0))?;
    assert_eq!(rows, 0, "rolled back");
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    assert_eq!(fk, 1);
    Ok(())
}

/// Fail the k-th driver call for every k (statements, savepoints, bookkeeping inserts,
/// commits); a re-run must complete and leave exactly what a clean run leaves.
#[test]
fn fault_injection_at_every_call_then_rerun_equals_clean_run() -> TestResult {
    let dir = tempfile::tempdir()?;
    let plan = common::example_plan();
    let clean = dir.path().join("clean.db");
    apply(&clean, &plan)?;
    let expected = normalised(&clean);
    let mut k = 1;
    loop {
        let path = dir.path().join(format!("fault{k}.db"));
        let mut conn = Connection::open(&path)?;
        let mut inner = SqliteDriver::new(&mut conn)?;
        let mut n = 0;
        let mut db = Hooked {
            inner: &mut inner,
            hook: |c: Call<'_>| {
                n += 1;
                if n == k {
                    return Err(DriverError::msg(format!(
                        "injected fault at call {k}: {c:?}"
                    )));
                }
                Ok(())
            },
        };
        let result = Migrator::new(&plan).apply(&mut db);
        drop(conn);
        let finished = result.is_ok();
        let report = apply(&path, &plan)?;
        assert!(!report.after.is_empty() || report.up_to_date);
        assert_eq!(normalised(&path), expected, "after a fault at call {k}");
        if finished {
            // k is past the last call: every call has had its fault.
            assert!(k > 10, "only {k} calls?");
            break;
        }
        k += 1;
    }
    Ok(())
}

#[test]
fn concurrent_migrators_on_one_file_apply_each_delta_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("shared.db");
    let plan = common::example_plan();
    let reports: Vec<Report> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| apply(&path, &plan).expect("every migrator succeeds")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total: usize = reports.iter().map(|r| r.applied.len()).sum();
    let deltas: usize = plan
        .stores
        .iter()
        .chain(plan.common.as_ref())
        .map(|s| s.deltas.iter().filter(|d| d.version > 10).count())
        .sum();
    assert_eq!(total, deltas, "each delta applied by exactly one migrator");
    let conn = Connection::open(&path)?;
    let recorded: i64 = conn.query_row("SELECT count(*) FROM strata_applied_deltas", [], |r| {
        r.get(0)
    })?;
    assert_eq!(recorded as usize, deltas);
    Ok(())
}

#[test]
fn status_reports_pending_work_and_background_updates() -> TestResult {
    let plan = common::example_plan();
    let mut conn = Connection::open_in_memory()?;
    let mut db = SqliteDriver::new(&mut conn)?;
    let before = Migrator::new(&plan).status(&mut db)?;
    assert!(!before.is_up_to_date());
    let main = before.stores.iter().find(|s| s.store == "main").unwrap();
    assert_eq!((main.version, main.pending_snapshot), (None, Some(10)));
    assert!(main.pending.iter().all(|(v, _)| *v > 10) && !main.pending.is_empty());
    Migrator::new(&plan).apply(&mut db)?;
    let after = Migrator::new(&plan).status(&mut db)?;
    assert!(after.is_up_to_date(), "{after:#?}");
    let main = after.stores.iter().find(|s| s.store == "main").unwrap();
    assert_eq!(
        (main.version, main.snapshot_version, main.upgraded),
        (Some(15), Some(10), true)
    );
    assert_eq!(
        after.pending_background_updates,
        vec![
            "events_origin_ts_idx",
            "rooms_last_activity_ts_backfill",
            "event_reports_unique_idx"
        ]
    );
    Ok(())
}

#[test]
fn baseline_adopts_an_existing_database() -> TestResult {
    let (_t, plan) = tree(&[
        ("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);"),
        ("delta/2/01_b.sql", "CREATE TABLE b (x BIGINT);"),
    ]);
    let mut conn = Connection::open_in_memory()?;
    // A database made by hand before strata: it already has version 1's schema.
    conn.execute_batch("CREATE TABLE a (x BIGINT)")?;
    let mut db = SqliteDriver::new(&mut conn)?;
    let adopted = Migrator::new(&plan).baseline(&mut db, 1)?;
    assert_eq!(adopted.applied, vec![("main".into(), 1, "01_a".into())]);
    let report = Migrator::new(&plan).apply(&mut db)?;
    assert_eq!(report.applied, vec![("main".into(), 2, "01_b".into())]);
    let again = Migrator::new(&plan).baseline(&mut db, 1).unwrap_err();
    assert!(
        matches!(again, Error::AlreadyManaged { version: 2, .. }),
        "{again}"
    );
    Ok(())
}

#[test]
fn progress_events_and_partial_target() -> TestResult {
    let (_t, plan) = tree(&[
        ("delta/1/01_a.sql", "CREATE TABLE a (x BIGINT);"),
        ("delta/2/01_b.sql", "CREATE TABLE b (x BIGINT);"),
        ("delta/3/01_c.sql", "CREATE TABLE c (x BIGINT);"),
    ]);
    let mut conn = Connection::open_in_memory()?;
    let mut db = SqliteDriver::new(&mut conn)?;
    let seen = std::sync::Mutex::new(Vec::new());
    let observer = |e: &strata::Event<'_>| {
        if let strata::Event::DeltaApplied {
            name, index, total, ..
        } = e
        {
            seen.lock().unwrap().push(format!("{index}/{total} {name}"));
        }
    };
    let options = Options {
        to_version: Some(2),
        ..Options::default()
    };
    let report = Migrator::with_options(&plan, options)
        .on_event(&observer)
        .apply(&mut db)?;
    assert_eq!(report.after, vec![("main".into(), 2)]);
    assert_eq!(*seen.lock().unwrap(), vec!["1/2 01_a", "2/2 01_b"]);
    let rest = Migrator::new(&plan).apply(&mut db)?;
    assert_eq!(rest.applied, vec![("main".into(), 3, "01_c".into())]);
    Ok(())
}

#[test]
fn testing_helper_gives_a_migrated_database() -> TestResult {
    let plan = common::example_plan();
    let conn = strata::testing::sqlite(&plan)?;
    let n: i64 = conn.query_row("SELECT count(*) FROM ratelimit_override", [], |r| r.get(0))?;
    assert!(n >= 0);
    Ok(())
}
