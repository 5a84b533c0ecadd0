//! Benchmark (not a test): backfilling a column of a 1,000,000-row table through the
//! background-update runner against one plain `UPDATE`, side by side in one run.
//!
//! `cargo bench --bench backfill` (add `-- 200000` for another row count). PostgreSQL runs
//! too when `STRATA_TEST_POSTGRES_URL` (or the default local server) is reachable. Prints a
//! Markdown table: the throughput ratio (batch time only, pauses excluded) and the batch
//! durations around the 100 ms target.

use std::time::{Duration, Instant};

use strata::background::{Batch, Handlers, Runner};
use strata::driver::Driver;
use strata::driver::postgres::PostgresDriver;
use strata::driver::sqlite::SqliteDriver;
use strata::{Migrator, Value};

fn plan() -> (tempfile::TempDir, strata::Migrations) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("delta/1");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("01_items.sql"),
        "CREATE TABLE items (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, w BIGINT);",
    )
    .unwrap();
    let (report, plan) = strata::schema::load_plan(dir.path(), &Default::default()).unwrap();
    (dir, plan.unwrap_or_else(|| panic!("{}", report.render())))
}

fn handlers() -> Handlers {
    Handlers::new().batch("items_w", |tx, progress, size| {
        let last = progress["last_id"].as_i64().unwrap_or(0);
        let changed = tx.execute(
            "UPDATE items SET w = v * 2 WHERE id > $1 AND id <= $2",
            &[Value::Integer(last), Value::Integer(last + size as i64)],
        )?;
        if changed == 0 {
            return Ok(Batch::Done { items: 0 });
        }
        Ok(Batch::Continue {
            progress: serde_json::json!({ "last_id": last + size as i64 }),
            items: changed,
        })
    })
}

struct Figures {
    engine: &'static str,
    single: Duration,
    batches: Vec<Duration>,
}

/// `reset` brings the table back to the same physical state before each side (PostgreSQL:
/// `VACUUM`, so the runner does not pay for the dead rows the single UPDATE left).
fn measure(
    engine: &'static str,
    db: &mut dyn Driver,
    fill: &str,
    reset: &str,
    rows: u64,
) -> Figures {
    db.execute_batch(fill).unwrap();
    db.execute_batch(reset).unwrap();
    let started = Instant::now();
    db.execute_batch("UPDATE items SET w = v * 2").unwrap();
    let single = started.elapsed();
    db.execute_batch("UPDATE items SET w = NULL").unwrap();
    db.execute_batch(reset).unwrap();
    db.execute_batch(
        "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('items_w', '{}', NULL, 101)",
    )
    .unwrap();
    let handlers = handlers();
    let mut runner = Runner::new(&handlers);
    let mut batches = Vec::new();
    let mut items = 0;
    runner
        .run_until_done(db, |b| {
            batches.push(b.duration);
            items += b.items;
        })
        .unwrap();
    assert_eq!(items, rows, "every row backfilled once");
    Figures {
        engine,
        single,
        batches,
    }
}

fn report(f: &Figures, target: Duration) {
    let total: Duration = f.batches.iter().sum();
    let mut ms: Vec<f64> = f.batches.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    let within = ms
        .iter()
        .filter(|&&m| m <= 2.0 * target.as_secs_f64() * 1000.0)
        .count() as f64
        / ms.len() as f64;
    println!(
        "| {} | {:.0} | {:.0} | {:.2} | {} | {:.0} / {:.0} / {:.0} / {:.0} | {:.1}% |",
        f.engine,
        f.single.as_secs_f64() * 1000.0,
        total.as_secs_f64() * 1000.0,
        f.single.as_secs_f64() / total.as_secs_f64(),
        ms.len(),
        pct(0.5),
        pct(0.9),
        pct(0.95),
        ms[ms.len() - 1],
        within * 100.0
    );
}

fn main() {
    let rows: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let (_tree, plan) = plan();
    let target = strata::background::RunnerOptions::default().target;
    println!("backfill of {rows} rows, target batch duration {target:?}\n");
    println!(
        "| engine | one UPDATE (ms) | runner, batch time only (ms) | throughput ratio | batches | batch ms p50 / p90 / p95 / max | batches within 2x target |"
    );
    println!("|---|---|---|---|---|---|---|");

    let dir = tempfile::tempdir().unwrap();
    let mut conn = rusqlite::Connection::open(dir.path().join("bench.db")).unwrap();
    let mut db = SqliteDriver::new(&mut conn).unwrap();
    Migrator::new(&plan).apply(&mut db).unwrap();
    let fill = format!(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) INSERT INTO items (id, v) SELECT x, x FROM c"
    );
    report(&measure("SQLite (file)", &mut db, &fill, "", rows), target);

    if let Some(pg) = strata::testing::PostgresTestDb::empty("bench_backfill") {
        let mut client = pg.client();
        let mut db = PostgresDriver::new(&mut client);
        Migrator::new(&plan).apply(&mut db).unwrap();
        let fill =
            format!("INSERT INTO items (id, v) SELECT x, x FROM generate_series(1, {rows}) AS x");
        report(
            &measure("PostgreSQL", &mut db, &fill, "VACUUM items", rows),
            target,
        );
    }
}
