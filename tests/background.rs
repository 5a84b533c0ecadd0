//! Background updates on SQLite files and PostgreSQL: order and dependencies, resumption
//! after a crash at every batch boundary and inside a batch, one at a time under concurrent
//! runners, duplicate removal before a unique index, failure limits, the start-up gate.

mod common;

use std::sync::Mutex;

use strata::background::{self, BackgroundIndex, Batch, Handlers, Runner, RunnerOptions};
use strata::driver::Driver;
use strata::driver::postgres::PostgresDriver;
use strata::driver::sqlite::SqliteDriver;
use strata::testing::PostgresTestDb;
use strata::{Error, Migrations, Migrator, Transaction, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A tree with `items` rows to backfill and three scheduled updates:
/// `b` (ordering 100) depends on `a` (101); `c` (102) is independent.
fn backfill_tree(items: usize) -> (tempfile::TempDir, Migrations) {
    let rows: Vec<String> = (1..=items).map(|i| format!("({i}, 0)")).collect();
    let seed = format!(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, touched BIGINT NOT NULL DEFAULT 0);\nINSERT INTO items (id, touched) VALUES {};",
        rows.join(", ")
    );
    let schedule = "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('a', '{}', NULL, 101);\n\
                    INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('b', '{}', 'a', 100);\n\
                    INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('c', '{}', NULL, 102);";
    common::tree(&[
        ("delta/1/01_items.sql", seed.as_str()),
        ("delta/1/02_schedule.sql", schedule),
    ])
}

/// A batch handler touching `items` rows after the saved `last_id`, once each.
fn touch(
    tx: &mut dyn Transaction,
    progress: &serde_json::Value,
    size: u64,
) -> Result<Batch, strata::CodeError> {
    let last = progress["last_id"].as_i64().unwrap_or(0);
    let rows = tx.query(
        "SELECT id FROM items WHERE id > $1 ORDER BY id LIMIT $2",
        &[Value::Integer(last), Value::Integer(size as i64)],
    )?;
    let Some(Value::Integer(max)) = rows.last().and_then(|r| r.first()).cloned() else {
        return Ok(Batch::Done { items: 0 });
    };
    tx.execute(
        "UPDATE items SET touched = touched + 1 WHERE id > $1 AND id <= $2",
        &[Value::Integer(last), Value::Integer(max)],
    )?;
    Ok(Batch::Continue {
        progress: serde_json::json!({ "last_id": max }),
        items: rows.len() as u64,
    })
}

fn touched_counts(db: &mut dyn Driver) -> Vec<i64> {
    db.query("SELECT touched FROM items ORDER BY id", &[])
        .unwrap()
        .into_iter()
        .map(|r| match r[0] {
            Value::Integer(i) => i,
            _ => -1,
        })
        .collect()
}

fn small_batches() -> RunnerOptions {
    RunnerOptions {
        initial_batch: 7,
        // Keep batches small whatever the measured rate: many boundaries to test.
        target: std::time::Duration::from_nanos(1),
        min_batch: 7,
        ..RunnerOptions::default()
    }
}

#[test]
fn order_dependencies_and_completion_on_sqlite() -> TestResult {
    let (_t, plan) = backfill_tree(20);
    let mut conn = rusqlite::Connection::open_in_memory()?;
    let mut db = SqliteDriver::new(&mut conn)?;
    Migrator::new(&plan).apply(&mut db)?;
    static ORDER: Mutex<Vec<&str>> = Mutex::new(Vec::new());
    let rec = |name: &'static str| {
        move |_: &mut dyn Transaction, _: &serde_json::Value, _: u64| {
            ORDER.lock().unwrap().push(name);
            Ok(Batch::Done { items: 1 })
        }
    };
    let missing = Handlers::new().batch("a", rec("a"));
    let err = Runner::new(&missing).check(&mut db).unwrap_err();
    assert!(
        matches!(&err, Error::MissingHandlers(names) if names == &["b", "c"]),
        "{err}"
    );
    let handlers = Handlers::new()
        .batch("a", rec("a"))
        .batch("b", rec("b"))
        .batch("c", rec("c"));
    assert!(!background::all_completed(&mut db)?);
    let gate = background::require_completed(&mut db, &["b"]).unwrap_err();
    assert!(gate.to_string().contains('b'), "{gate}");
    Runner::new(&handlers).run_until_done(&mut db, |_| {})?;
    // b has the lowest ordering but waits for a.
    assert_eq!(*ORDER.lock().unwrap(), vec!["a", "b", "c"]);
    assert!(background::has_completed(&mut db, "b")?);
    assert!(background::all_completed(&mut db)?);
    background::require_completed(&mut db, &["a", "b"])?;
    let unknown = background::has_completed(&mut db, "nope").unwrap_err();
    assert!(matches!(unknown, Error::UnknownBackgroundUpdate(_)));
    Ok(())
}

/// `a` touches its batch, then fails: the batch's work must be rolled back.
fn failing_after_its_work() -> Handlers {
    Handlers::new()
        .batch("a", |tx, p, n| {
            touch(tx, p, n)?;
            Err("crash inside the batch".into())
        })
        .noop("b")
        .noop("c")
}

fn handlers_touching_all() -> Handlers {
    Handlers::new().batch("a", touch).noop("b").noop("c")
}

#[test]
fn resumes_after_a_crash_at_every_batch_boundary() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bg.db");
    let (_t, plan) = backfill_tree(50);
    {
        let mut conn = rusqlite::Connection::open(&path)?;
        Migrator::new(&plan).apply(&mut SqliteDriver::new(&mut conn)?)?;
    }
    let handlers = handlers_touching_all();
    // One batch per "process": a new connection and a new runner each time.
    let mut batches = 0;
    loop {
        let mut conn = rusqlite::Connection::open(&path)?;
        let mut db = SqliteDriver::new(&mut conn)?;
        let mut runner = Runner::with_options(&handlers, small_batches());
        match runner.run_batch(&mut db)? {
            Some(_) => batches += 1,
            None => break,
        }
    }
    assert!(batches >= 50 / 7, "{batches} batches");
    let mut conn = rusqlite::Connection::open(&path)?;
    let mut db = SqliteDriver::new(&mut conn)?;
    assert_eq!(
        touched_counts(&mut db),
        vec![1; 50],
        "every item exactly once"
    );
    Ok(())
}

#[test]
fn a_failure_inside_a_batch_rolls_it_back_and_the_runner_stops_after_five() -> TestResult {
    let (_t, plan) = backfill_tree(30);
    let mut conn = rusqlite::Connection::open_in_memory()?;
    let mut db = SqliteDriver::new(&mut conn)?;
    Migrator::new(&plan).apply(&mut db)?;
    // Does its work, then fails: the work must not stay.
    let failing = failing_after_its_work();
    let err = Runner::with_options(&failing, small_batches())
        .run_until_done(&mut db, |_| {})
        .unwrap_err();
    assert!(
        matches!(&err, Error::BackgroundUpdateFailed { failures: 5, .. }),
        "{err}"
    );
    assert_eq!(touched_counts(&mut db), vec![0; 30]);
    Runner::with_options(&handlers_touching_all(), small_batches())
        .run_until_done(&mut db, |_| {})?;
    assert_eq!(touched_counts(&mut db), vec![1; 30]);
    Ok(())
}

#[test]
fn concurrent_runners_on_one_sqlite_file_do_each_item_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bg.db");
    let (_t, plan) = backfill_tree(200);
    {
        let mut conn = rusqlite::Connection::open(&path)?;
        Migrator::new(&plan).apply(&mut SqliteDriver::new(&mut conn)?)?;
    }
    let handlers = handlers_touching_all();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut conn = rusqlite::Connection::open(&path).unwrap();
                let mut db = SqliteDriver::new(&mut conn).unwrap();
                Runner::with_options(&handlers, small_batches())
                    .run_until_done(&mut db, |_| {})
                    .unwrap();
            });
        }
    });
    let mut conn = rusqlite::Connection::open(&path)?;
    let mut db = SqliteDriver::new(&mut conn)?;
    assert_eq!(touched_counts(&mut db), vec![1; 200]);
    assert!(background::all_completed(&mut db)?);
    Ok(())
}

fn dup_tree() -> (tempfile::TempDir, Migrations) {
    common::tree(&[
        (
            "delta/1/01_members.sql",
            "CREATE TABLE members (id BIGINT PRIMARY KEY, room TEXT NOT NULL, member TEXT NOT NULL);\n\
             INSERT INTO members (id, room, member) VALUES (1, 'r', 'a'), (2, 'r', 'b'), (3, 'r', 'a'), (4, 's', 'a'), (5, 'r', 'b');",
        ),
        (
            "delta/2/01_members_unique.sql",
            "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('members_unique_idx', '{}', NULL, 201);",
        ),
    ])
}

fn unique_index() -> Handlers {
    Handlers::new().index(
        "members_unique_idx",
        BackgroundIndex::new("members_room_member", "members", &["room", "member"])
            .unique(Some("id")),
    )
}

fn ids(db: &mut dyn Driver) -> Vec<i64> {
    db.query("SELECT id FROM members ORDER BY id", &[])
        .unwrap()
        .into_iter()
        .map(|r| match r[0] {
            Value::Integer(i) => i,
            _ => -1,
        })
        .collect()
}

#[test]
fn unique_background_index_removes_duplicates_first_on_sqlite() -> TestResult {
    let (_t, plan) = dup_tree();
    let mut conn = rusqlite::Connection::open_in_memory()?;
    let mut db = SqliteDriver::new(&mut conn)?;
    Migrator::new(&plan).apply(&mut db)?;
    Runner::new(&unique_index()).run_until_done(&mut db, |_| {})?;
    // The lowest id of each (room, member) stays.
    assert_eq!(ids(&mut db), vec![1, 2, 4]);
    let dup = db.execute(
        "INSERT INTO members (id, room, member) VALUES (9, 'r', 'a')",
        &[],
    );
    assert!(dup.is_err(), "the unique index exists");
    Ok(())
}

#[test]
fn background_updates_on_postgres() -> TestResult {
    let Some(pg) = PostgresTestDb::empty("background_updates_on_postgres") else {
        return Ok(());
    };
    // Duplicates removed, then CREATE UNIQUE INDEX CONCURRENTLY outside a transaction.
    let (_t, plan) = dup_tree();
    let mut client = pg.client();
    let mut db = PostgresDriver::new(&mut client);
    Migrator::new(&plan).apply(&mut db)?;
    // The application's own statement timeout: lifted for the build, then back.
    db.execute_batch("SET statement_timeout = '7s'")?;
    Runner::new(&unique_index()).run_until_done(&mut db, |_| {})?;
    assert_eq!(ids(&mut db), vec![1, 2, 4]);
    assert_eq!(
        db.query("SHOW statement_timeout", &[])?,
        vec![vec![Value::Text("7s".to_string())]]
    );
    let valid: Vec<Vec<Value>> = db.query(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'members_room_member'",
        &[],
    )?;
    assert_eq!(valid, vec![vec![Value::Integer(1)]]);
    Ok(())
}

#[test]
fn concurrent_runners_on_postgres_do_each_item_once() -> TestResult {
    let Some(pg) = PostgresTestDb::empty("concurrent_runners_on_postgres") else {
        return Ok(());
    };
    let (_t, plan) = backfill_tree(200);
    Migrator::new(&plan).apply(&mut PostgresDriver::new(&mut pg.client()))?;
    let handlers = handlers_touching_all();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut client = pg.client();
                let mut db = PostgresDriver::new(&mut client);
                Runner::with_options(&handlers, small_batches())
                    .run_until_done(&mut db, |_| {})
                    .unwrap();
            });
        }
    });
    let mut client = pg.client();
    let mut db = PostgresDriver::new(&mut client);
    assert_eq!(touched_counts(&mut db), vec![1; 200]);
    Ok(())
}

#[test]
fn builtin_updates_described_by_the_delta_need_no_handler() -> TestResult {
    let (_t, plan) = common::tree(&[
        ("delta/1/01_t.sql", "CREATE TABLE t (a BIGINT);"),
        (
            "delta/2/01_t_a.sql",
            "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('t_a_idx', '{\"builtin\": \"index\", \"index\": \"t_a\", \"table\": \"t\", \"columns\": [\"a\"]}', NULL, 201);\n\
             INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('retired', '{\"builtin\": \"noop\"}', NULL, 202);",
        ),
    ]);
    let mut conn = rusqlite::Connection::open_in_memory()?;
    let mut db = SqliteDriver::new(&mut conn)?;
    Migrator::new(&plan).apply(&mut db)?;
    let handlers = Handlers::new();
    let mut runner = Runner::new(&handlers);
    runner.check(&mut db)?;
    runner.run_until_done(&mut db, |_| {})?;
    assert!(background::all_completed(&mut db)?);
    let index = db.query(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND name = 't_a'",
        &[],
    )?;
    assert_eq!(index.len(), 1);
    Ok(())
}

/// The remaining-items estimate of `a`: rows after the saved `last_id`.
fn handlers_with_estimate() -> Handlers {
    handlers_touching_all().remaining("a", |tx, progress| {
        let last = progress["last_id"].as_i64().unwrap_or(0);
        let rows = tx.query(
            "SELECT count(*) FROM items WHERE id > $1",
            &[Value::Integer(last)],
        )?;
        Ok(match rows[0][0] {
            Value::Integer(n) => n as u64,
            _ => 0,
        })
    })
}

fn migrated_file(items: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bg.db");
    let (_t, plan) = backfill_tree(items);
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    Migrator::new(&plan)
        .apply(&mut SqliteDriver::new(&mut conn).unwrap())
        .unwrap();
    (dir, path)
}

#[test]
fn progress_reports_count_down_to_completion_with_an_eta() -> TestResult {
    let (_d, path) = migrated_file(100);
    let mut conn = rusqlite::Connection::open(&path)?;
    let mut db = SqliteDriver::new(&mut conn)?;
    let handlers = handlers_with_estimate();
    let reports =
        Runner::with_options(&handlers, small_batches()).run_until_done(&mut db, |_| {})?;
    let a: Vec<_> = reports.iter().filter(|r| r.update == "a").collect();
    assert!(a.len() > 10, "{} batches", a.len());
    // Done counts up, remaining counts down, and they always add up to the 100 items.
    for r in &a {
        assert_eq!(r.done + r.remaining.unwrap(), 100, "{r:?}");
        assert!(r.eta.is_some(), "{r:?}");
    }
    let last = a.last().unwrap();
    assert!(last.completed);
    assert_eq!(
        (last.done, last.remaining, last.eta),
        (100, Some(0), Some(std::time::Duration::ZERO))
    );
    // A completed update has nothing left, estimate or not.
    let b = reports.iter().find(|r| r.update == "b").unwrap();
    assert_eq!(
        (b.remaining, b.eta),
        (Some(0), Some(std::time::Duration::ZERO))
    );
    // Without an estimate: counts and rate while it runs, no remaining count and no ETA.
    let (_d, path) = migrated_file(100);
    let mut conn = rusqlite::Connection::open(&path)?;
    let mut db = SqliteDriver::new(&mut conn)?;
    let handlers = handlers_touching_all();
    let reports =
        Runner::with_options(&handlers, small_batches()).run_until_done(&mut db, |_| {})?;
    let a: Vec<_> = reports.iter().filter(|r| r.update == "a").collect();
    let (last, running) = a.split_last().unwrap();
    assert!(running.len() > 10, "{} batches", running.len());
    for (i, r) in running.iter().enumerate() {
        assert_eq!((r.remaining, r.eta), (None, None), "{r:?}");
        assert_eq!(r.done, ((i as u64 + 1) * 7).min(100), "{r:?}");
        assert!(r.rate > 0.0, "{r:?}");
    }
    assert!(last.completed);
    assert_eq!(last.done, 100);
    Ok(())
}

#[test]
fn worker_thread_stops_on_request_and_a_new_one_resumes() -> TestResult {
    use std::sync::Arc;
    use strata::background::{BackgroundWorker, WorkerExit};
    let (_d, path) = migrated_file(300);
    let handlers = Arc::new(handlers_with_estimate());
    let paced = RunnerOptions {
        pause: std::time::Duration::from_millis(20),
        ..small_batches()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = BackgroundWorker::spawn(
        SqliteDriver::owned(rusqlite::Connection::open(&path)?)?,
        handlers.clone(),
        paced.clone(),
        move |r| {
            let _ = tx.send(r.clone());
        },
    );
    // Let a few batches commit, then stop from another handle.
    for _ in 0..3 {
        rx.recv()?;
    }
    worker.stop_handle().stop();
    assert_eq!(worker.join()?, WorkerExit::Stopped);
    let done_before: u64 = rx.try_iter().map(|r| r.items).sum::<u64>() + 3 * 7;
    {
        let mut conn = rusqlite::Connection::open(&path)?;
        let mut db = SqliteDriver::new(&mut conn)?;
        let counts = touched_counts(&mut db);
        assert!(counts.iter().all(|&c| c <= 1), "nothing done twice");
        let done = counts.iter().filter(|&&c| c == 1).count() as u64;
        assert!(
            done >= done_before && done < 300,
            "{done} of 300 done when stopped"
        );
        assert!(!background::has_completed(&mut db, "a")?);
    }
    // A new worker resumes after the last committed batch and finishes.
    let worker = BackgroundWorker::spawn(
        SqliteDriver::owned(rusqlite::Connection::open(&path)?)?,
        handlers,
        RunnerOptions {
            pause: std::time::Duration::ZERO,
            ..paced
        },
        |_| {},
    );
    assert_eq!(worker.join()?, WorkerExit::Completed);
    let mut conn = rusqlite::Connection::open(&path)?;
    let mut db = SqliteDriver::new(&mut conn)?;
    assert_eq!(touched_counts(&mut db), vec![1; 300]);
    assert!(background::all_completed(&mut db)?);
    Ok(())
}

#[test]
fn a_worker_without_every_handler_ends_naming_the_missing_ones() -> TestResult {
    use std::sync::Arc;
    use strata::background::BackgroundWorker;
    let (_d, path) = migrated_file(5);
    let worker = BackgroundWorker::spawn(
        SqliteDriver::owned(rusqlite::Connection::open(&path)?)?,
        Arc::new(Handlers::new().batch("a", touch)),
        RunnerOptions::default(),
        |_| {},
    );
    let err = worker.join().unwrap_err();
    assert!(
        matches!(&err, Error::MissingHandlers(n) if n == &["b", "c"]),
        "{err}"
    );
    Ok(())
}

#[test]
fn the_waiting_gate_times_out_naming_the_update_then_passes_once_it_completed() -> TestResult {
    use std::time::Duration;
    let (_d, path) = migrated_file(20);
    let mut conn = rusqlite::Connection::open(&path)?;
    let mut db = SqliteDriver::new(&mut conn)?;
    let err = background::wait_completed(
        &mut db,
        &["b"],
        Duration::from_millis(5),
        Duration::from_millis(30),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::BackgroundUpdatesPending(n) if n == &["b"]),
        "{err}"
    );
    let worker = strata::background::BackgroundWorker::spawn(
        SqliteDriver::owned(rusqlite::Connection::open(&path)?)?,
        std::sync::Arc::new(handlers_touching_all()),
        small_batches(),
        |_| {},
    );
    background::wait_completed(
        &mut db,
        &["a", "b"],
        Duration::from_millis(5),
        Duration::from_secs(60),
    )?;
    assert!(background::has_completed(&mut db, "b")?);
    worker.join()?;
    let unknown = background::wait_completed(
        &mut db,
        &["nope"],
        Duration::from_millis(5),
        Duration::from_secs(1),
    );
    assert!(matches!(unknown, Err(Error::UnknownBackgroundUpdate(_))));
    Ok(())
}

// --- One update at a time across processes -------------------------------------------------

const CHILD_BG_SQLITE: &str = "STRATA_TEST_CHILD_BG_SQLITE";
const CHILD_BG_POSTGRES: &str = "STRATA_TEST_CHILD_BG_POSTGRES";
const CHILD_BG_LOG: &str = "STRATA_TEST_CHILD_BG_LOG";

/// `touch`, writing `start` and `end` lines around its work to a log file shared by the
/// processes (appends are atomic): overlapping batches would interleave them.
fn logged_handlers() -> Handlers {
    use std::io::Write;
    let log = std::env::var(CHILD_BG_LOG).unwrap_or_default();
    let line = move |what: &str| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&log)
            .unwrap();
        writeln!(f, "{what} {}", std::process::id()).unwrap();
    };
    Handlers::new()
        .batch("a", move |tx, p, n| {
            line("start");
            let r = touch(tx, p, n);
            // Widen the window a concurrent batch would need.
            std::thread::sleep(std::time::Duration::from_millis(2));
            line("end");
            r
        })
        .noop("b")
        .noop("c")
}

/// The entry point of the child processes: runs the background updates of the database
/// the parent names. Run directly (no such variable), it has nothing to do.
#[test]
fn child_background_runner_entry_point() {
    let handlers = logged_handlers();
    if let Ok(path) = std::env::var(CHILD_BG_SQLITE) {
        let mut conn = rusqlite::Connection::open(path).unwrap();
        let mut db = SqliteDriver::new(&mut conn).unwrap();
        Runner::with_options(&handlers, small_batches())
            .run_until_done(&mut db, |_| {})
            .unwrap();
    }
    if let Ok(url) = std::env::var(CHILD_BG_POSTGRES) {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut db = PostgresDriver::new(&mut client);
        Runner::with_options(&handlers, small_batches())
            .run_until_done(&mut db, |_| {})
            .unwrap();
    }
}

/// Runs 4 child runners and checks the log: batches never overlapped.
fn run_background_children(var: &str, value: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("batches.log");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "child_background_runner_entry_point",
                    "--test-threads=1",
                ])
                .env(var, value)
                .env(CHILD_BG_LOG, &log)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a child runner failed");
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(' ').unwrap()).collect();
    assert!(lines.len() >= 2 * (200 / 7), "{} lines", lines.len());
    for pair in lines.chunks(2) {
        assert_eq!(pair[0].0, "start", "{text}");
        assert_eq!(
            pair[1],
            ("end", pair[0].1),
            "a batch overlapped another:\n{text}"
        );
    }
}

#[test]
fn runner_processes_on_one_sqlite_file_run_one_batch_at_a_time() -> TestResult {
    let (_d, path) = migrated_file(200);
    run_background_children(CHILD_BG_SQLITE, path.to_str().unwrap());
    let mut conn = rusqlite::Connection::open(&path)?;
    let mut db = SqliteDriver::new(&mut conn)?;
    assert_eq!(touched_counts(&mut db), vec![1; 200]);
    assert!(background::all_completed(&mut db)?);
    Ok(())
}

#[test]
fn runner_processes_on_one_postgres_database_run_one_batch_at_a_time() -> TestResult {
    let Some(pg) = PostgresTestDb::empty("runner_processes_on_postgres") else {
        return Ok(());
    };
    let (_t, plan) = backfill_tree(200);
    Migrator::new(&plan).apply(&mut PostgresDriver::new(&mut pg.client()))?;
    run_background_children(CHILD_BG_POSTGRES, &pg.url);
    let mut client = pg.client();
    let mut db = PostgresDriver::new(&mut client);
    assert_eq!(touched_counts(&mut db), vec![1; 200]);
    assert!(background::all_completed(&mut db)?);
    Ok(())
}

/// Delta 1 schedules `early`; the snapshot at 2 holds the schema; delta 3 schedules `late`,
/// which depends on `early`.
fn snapshot_tree() -> (tempfile::TempDir, Migrations) {
    let table = "CREATE TABLE items (id BIGINT PRIMARY KEY, touched BIGINT NOT NULL DEFAULT 0);";
    common::tree(&[
        ("delta/1/01_items.sql", table),
        (
            "delta/1/02_schedule.sql",
            "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('early', '{}', NULL, 102);",
        ),
        (
            "delta/2/01_note.sql",
            "CREATE TABLE notes (id BIGINT PRIMARY KEY);",
        ),
        (
            "full_schemas/2/01_base.sql",
            &format!("{table}\nCREATE TABLE notes (id BIGINT PRIMARY KEY);"),
        ),
        (
            "delta/3/01_schedule.sql",
            "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('late', '{}', 'early', 301);",
        ),
    ])
}

#[test]
fn a_database_created_from_a_snapshot_or_baselined_knows_the_updates_before_it() -> TestResult {
    let (_t, plan) = snapshot_tree();
    assert_eq!(plan.background_updates.len(), 2);
    let handlers = Handlers::new().noop("early").noop("late");

    // Fresh: the snapshot at 2 is loaded, delta 3 runs. `early` was scheduled by a delta the
    // database never ran: it is recorded as done, and `late` (depending on it) can run.
    let mut conn = rusqlite::Connection::open_in_memory()?;
    let mut db = SqliteDriver::new(&mut conn)?;
    let report = Migrator::new(&plan).apply(&mut db)?;
    assert_eq!(report.snapshots, vec![("main".to_string(), 2)]);
    assert!(background::has_completed(&mut db, "early")?);
    assert!(!background::has_completed(&mut db, "late")?);
    background::require_completed(&mut db, &["early"])?;
    Runner::new(&handlers).run_until_done(&mut db, |_| {})?;
    assert!(background::all_completed(&mut db)?);

    // The offline script does the same.
    let mut empty = rusqlite::Connection::open_in_memory()?;
    let steps = Migrator::new(&plan).plan_steps(&mut SqliteDriver::new(&mut empty)?)?;
    let script = strata::script::sql_script(&plan, &steps, strata::Engine::Sqlite)?;
    let mut conn = rusqlite::Connection::open_in_memory()?;
    conn.execute_batch(&script)?;
    let mut db = SqliteDriver::new(&mut conn)?;
    assert!(background::has_completed(&mut db, "early")?);
    assert!(!background::has_completed(&mut db, "late")?);

    // Baseline at 1: the database is taken to hold delta 1's work, its update included.
    let mut conn = rusqlite::Connection::open_in_memory()?;
    conn.execute_batch(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, touched BIGINT NOT NULL DEFAULT 0);",
    )?;
    let mut db = SqliteDriver::new(&mut conn)?;
    Migrator::new(&plan).baseline(&mut db, 1)?;
    assert!(background::has_completed(&mut db, "early")?);
    Migrator::new(&plan).apply(&mut db)?;
    Runner::new(&handlers).run_until_done(&mut db, |_| {})?;
    assert!(background::all_completed(&mut db)?);
    Ok(())
}

#[test]
fn dependencies_the_database_cannot_satisfy_are_run_time_errors() -> TestResult {
    let (_t, plan) = backfill_tree(1);
    let handlers = handlers_touching_all().noop("x").noop("y").noop("z");
    let mut conn = rusqlite::Connection::open_in_memory()?;
    let mut db = SqliteDriver::new(&mut conn)?;
    Migrator::new(&plan).apply(&mut db)?;
    Runner::new(&handlers).run_until_done(&mut db, |_| {})?;
    // Rows written by hand (or by an older tree): a dependency on an update never scheduled...
    db.execute_batch(
        "INSERT INTO strata_background_updates (update_name, depends_on, ordering) VALUES ('z', 'ghost', 1)",
    )?;
    let err = Runner::new(&handlers)
        .run_until_done(&mut db, |_| {})
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownBackgroundDependency { update, depends_on } if update == "z" && depends_on == "ghost"),
        "{err}"
    );
    // ...and a cycle.
    db.execute_batch(
        "DELETE FROM strata_background_updates WHERE update_name = 'z';\n\
         INSERT INTO strata_background_updates (update_name, depends_on, ordering) VALUES ('x', 'y', 1), ('y', 'x', 2);",
    )?;
    let err = Runner::new(&handlers)
        .run_until_done(&mut db, |_| {})
        .unwrap_err();
    assert!(
        matches!(&err, Error::BackgroundDependencyCycle(names) if names == &["x", "y"]),
        "{err}"
    );
    Ok(())
}

fn partial_tree() -> (tempfile::TempDir, Migrations) {
    common::tree(&[
        (
            "delta/1/01_members.sql",
            "CREATE TABLE members (id BIGINT PRIMARY KEY, room TEXT NOT NULL, member TEXT NOT NULL);\n\
             CREATE INDEX members_room_old ON members (room);\n\
             INSERT INTO members (id, room, member) VALUES (1, 'r', 'a'), (2, 's', 'b');",
        ),
        (
            "delta/2/01_partial.sql",
            "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('members_partial_idx', '{}', NULL, 201);",
        ),
    ])
}

fn partial_index() -> Handlers {
    Handlers::new().index(
        "members_partial_idx",
        BackgroundIndex::new("members_member_r", "members", &["member"])
            .where_clause("room = 'r'")
            .replacing("members_room_old"),
    )
}

#[test]
fn a_partial_background_index_replaces_the_old_one_on_sqlite() -> TestResult {
    let (_t, plan) = partial_tree();
    let mut conn = rusqlite::Connection::open_in_memory()?;
    let mut db = SqliteDriver::new(&mut conn)?;
    Migrator::new(&plan).apply(&mut db)?;
    Runner::new(&partial_index()).run_until_done(&mut db, |_| {})?;
    let indexes = db.query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'members' AND sql IS NOT NULL ORDER BY name",
        &[],
    )?;
    assert_eq!(indexes.len(), 1, "{indexes:?}");
    assert_eq!(indexes[0][0], Value::Text("members_member_r".into()));
    let Value::Text(sql) = &indexes[0][1] else {
        panic!("{indexes:?}")
    };
    assert!(sql.ends_with("WHERE room = 'r'"), "{sql}");
    Ok(())
}

#[test]
fn a_partial_background_index_replaces_the_old_one_and_an_invalid_leftover_on_postgres()
-> TestResult {
    let Some(pg) = PostgresTestDb::empty("partial_background_index") else {
        return Ok(());
    };
    let (_t, plan) = partial_tree();
    let mut client = pg.client();
    let mut db = PostgresDriver::new(&mut client);
    Migrator::new(&plan).apply(&mut db)?;
    // What an interrupted CREATE INDEX CONCURRENTLY leaves: an INVALID index of that name
    // (and of another definition, to see it rebuilt).
    db.execute_batch(
        "CREATE INDEX members_member_r ON members (id);\n\
         UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'members_member_r'::regclass;",
    )?;
    Runner::new(&partial_index()).run_until_done(&mut db, |_| {})?;
    let indexes = db.query(
        "SELECT c.relname, i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = 'members'::regclass AND NOT i.indisprimary ORDER BY c.relname",
        &[],
    )?;
    assert_eq!(indexes.len(), 1, "{indexes:?}");
    assert_eq!(indexes[0][0], Value::Text("members_member_r".into()));
    assert_eq!(indexes[0][1], Value::Integer(1), "{indexes:?}");
    let Value::Text(def) = &indexes[0][2] else {
        panic!("{indexes:?}")
    };
    assert!(def.contains("(member) WHERE (room = 'r'::text)"), "{def}");
    Ok(())
}

#[test]
fn order_resume_and_rollback_on_postgres() -> TestResult {
    let Some(pg) = PostgresTestDb::empty("background_order_resume_rollback") else {
        return Ok(());
    };
    let (_t, plan) = backfill_tree(40);
    Migrator::new(&plan).apply(&mut PostgresDriver::new(&mut pg.client()))?;
    // A batch that does its work and then fails leaves nothing behind.
    let failing = failing_after_its_work();
    {
        let mut client = pg.client();
        let mut db = PostgresDriver::new(&mut client);
        let err = Runner::with_options(&failing, small_batches())
            .run_until_done(&mut db, |_| {})
            .unwrap_err();
        assert!(
            matches!(&err, Error::BackgroundUpdateFailed { failures: 5, .. }),
            "{err}"
        );
        assert_eq!(touched_counts(&mut db), vec![0; 40]);
    }
    // One batch per connection ("process"), in (ordering, name) order with `b` after `a`.
    let handlers = handlers_touching_all();
    let mut order: Vec<String> = Vec::new();
    loop {
        let mut client = pg.client();
        let mut db = PostgresDriver::new(&mut client);
        let mut runner = Runner::with_options(&handlers, small_batches());
        match runner.run_batch(&mut db)? {
            Some(report) => {
                if order.last() != Some(&report.update) {
                    order.push(report.update.clone());
                }
            }
            None => break,
        }
    }
    assert_eq!(order, ["a", "b", "c"]);
    let mut client = pg.client();
    let mut db = PostgresDriver::new(&mut client);
    assert_eq!(
        touched_counts(&mut db),
        vec![1; 40],
        "every item exactly once"
    );
    assert!(background::all_completed(&mut db)?);
    Ok(())
}
