//! The data layer of a chat server on strata: `cargo run --example chat`.
//!
//! The schema tree `examples/chat/schema` is compiled in with `include_migrations!` (checked
//! while this example builds), together with typed names of its tables and columns, a code
//! delta (`main/delta/15/02_displayname_whitespace.rs`) and the handler of the application's
//! own background update. The stores `main` and `state` live in two SQLite files under
//! `chat-data/` by default, or together in the PostgreSQL database `DATABASE_URL` names.
//!
//! Without arguments it runs the main job: migrate, insert sample data, run the background
//! updates on a worker thread with progress, and print the status. With arguments it is the
//! embedded `strata` command line over the same plan and handlers:
//! `cargo run --example chat -- status`, `-- migrate --to 14`, `-- bg run`, `-- --help`.

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata::background::{self, BackgroundWorker, Batch, BatchReport, Handlers, RunnerOptions};
use strata::driver::Driver;
use strata::driver::postgres::{PostgresDriver, Tls};
use strata::driver::sqlite::SqliteDriver;
use strata::{CodeError, Event, Migrator, Options, Transaction, Value};

strata::include_migrations!(pub mod db = "examples/chat/schema");

/// The application's own background update (scheduled by `main/delta/13`).
const LAST_ACTIVITY_BACKFILL: &str = "rooms_last_activity_ts_backfill";
/// The built-in unique index of `main/delta/15`: `ON CONFLICT (event_id, user_id)` needs it.
const UNIQUE_REPORTS: &str = "event_reports_unique_idx";

const ROOMS: usize = 300;
const EVENTS_PER_ROOM: usize = 20;

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let data_dir = std::env::var("CHAT_DATA_DIR").unwrap_or_else(|_| "chat-data".to_string());
    if let Err(e) = std::fs::create_dir_all(&data_dir) {
        eprintln!("error: cannot create `{data_dir}`: {e}");
        return ExitCode::from(2);
    }
    let main_db = format!("sqlite:{data_dir}/main.db");
    let state_db = format!("sqlite:{data_dir}/state.db");
    if std::env::args().len() > 1 {
        // The embedded command line: `--database` / DATABASE_URL override the defaults.
        return strata::cli::Embedded::new("chat", &db::MIGRATIONS)
            .handlers(handlers())
            .default_store_database("main", &main_db)
            .default_store_database("state", &state_db)
            .run();
    }
    let databases = match std::env::var("DATABASE_URL") {
        Ok(url) => vec![(url, vec!["main", "state"])],
        Err(_) => vec![(main_db, vec!["main"]), (state_db, vec!["state"])],
    };
    match run(&databases) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The handlers of the updates no built-in covers, by name.
fn handlers() -> Handlers {
    Handlers::new()
        .batch(LAST_ACTIVITY_BACKFILL, backfill_last_activity)
        .remaining(LAST_ACTIVITY_BACKFILL, |tx, progress| {
            let after = progress["last_room_id"].as_str().unwrap_or("").to_string();
            let rows = tx.query(
                &format!(
                    "SELECT count(*) FROM {} WHERE {} > $1",
                    db::rooms::TABLE,
                    db::rooms::ROOM_ID
                ),
                &[Value::Text(after)],
            )?;
            Ok(match rows[0][0] {
                Value::Integer(n) => n as u64,
                _ => 0,
            })
        })
}

/// One batch of the backfill: the next `size` rooms after the saved one get their last
/// activity from their newest event. Runs in the transaction that also saves the progress.
fn backfill_last_activity(
    tx: &mut dyn Transaction,
    progress: &serde_json::Value,
    size: u64,
) -> Result<Batch, CodeError> {
    let after = progress["last_room_id"].as_str().unwrap_or("").to_string();
    let rooms = tx.query(
        &format!(
            "SELECT {id} FROM {rooms} WHERE {id} > $1 ORDER BY {id} LIMIT $2",
            id = db::rooms::ROOM_ID,
            rooms = db::rooms::TABLE
        ),
        &[Value::Text(after.clone()), Value::Integer(size as i64)],
    )?;
    let Some(Value::Text(last)) = rooms.last().and_then(|r| r.first()).cloned() else {
        return Ok(Batch::Done { items: 0 });
    };
    tx.execute(
        &format!(
            "UPDATE {rooms} SET {activity} = (SELECT max(e.{ts}) FROM {events} e WHERE e.{eroom} = {rooms}.{id}) \
             WHERE {id} > $1 AND {id} <= $2",
            rooms = db::rooms::TABLE,
            activity = db::rooms::LAST_ACTIVITY_TS,
            ts = db::events::ORIGIN_SERVER_TS,
            events = db::events::TABLE,
            eroom = db::events::ROOM_ID,
            id = db::rooms::ROOM_ID,
        ),
        &[Value::Text(after), Value::Text(last.clone())],
    )?;
    Ok(Batch::Continue {
        progress: serde_json::json!({ "last_room_id": last }),
        items: rooms.len() as u64,
    })
}

fn run(databases: &[(String, Vec<&str>)]) -> Result<()> {
    let started = Instant::now();
    for (url, stores) in databases {
        println!("== {} ({})", strata::cli::redact(url), stores.join(", "));
        with_driver(url, |db| migrate(db, stores))?;
        with_driver(url, |db| insert_sample_data(db, stores))?;
        run_background_updates(url)?;
        with_driver(url, |db| print_status(db, stores))?;
    }
    println!("done in {:.1?}", started.elapsed());
    Ok(())
}

/// Applies the compiled-in plan to the stores of one database, one line per step.
fn migrate(db: &mut dyn Driver, stores: &[&str]) -> Result<()> {
    let options = Options {
        stores: Some(stores.iter().map(|s| s.to_string()).collect()),
        ..Options::default()
    };
    let report = Migrator::with_options(&db::MIGRATIONS, options)
        .on_event(&|e: &Event<'_>| match *e {
            Event::SnapshotStarted { store, version, .. } => {
                println!("  migrate: {store}: load snapshot {version}")
            }
            Event::DeltaStarted {
                store,
                version,
                name,
                ..
            } => println!("  migrate: {store}: apply {version}/{name}"),
            _ => {}
        })
        .apply(db)?;
    if report.up_to_date {
        println!("  migrate: up to date");
    } else {
        for change in report.version_changes() {
            println!("  migrate: {change}");
        }
    }
    Ok(())
}

/// Users, rooms, events, and event reports, some of them duplicates (sent twice by an old
/// client) which the unique background index of version 15 removes. Only once: a second
/// run finds the data there.
fn insert_sample_data(db: &mut dyn Driver, stores: &[&str]) -> Result<()> {
    if !stores.contains(&"main") {
        return Ok(());
    }
    let users = db.query(&format!("SELECT count(*) FROM {}", db::users::TABLE), &[])?;
    if users[0][0] != Value::Integer(0) {
        println!("  data: already there");
        return Ok(());
    }
    let t0 = 1_700_000_000_000_i64;
    db.begin()?;
    let result = (|| -> Result<()> {
        for u in 0..20 {
            db.execute(
                &format!(
                    "INSERT INTO {} ({}, {}, {}) VALUES ($1, $2, $3)",
                    db::users::TABLE,
                    db::users::NAME,
                    db::users::CREATION_TS,
                    db::users::DISPLAYNAME
                ),
                &[
                    Value::Text(format!("@user{u}:chat.example.org")),
                    Value::Integer(t0),
                    Value::Text(format!("User {u}")),
                ],
            )?;
        }
        let mut stream = 0;
        for r in 0..ROOMS {
            let room = format!("!room{r:04}:chat.example.org");
            db.execute(
                "INSERT INTO rooms (room_id, creator, created_ts) VALUES ($1, $2, $3)",
                &[
                    Value::Text(room.clone()),
                    Value::Text(format!("@user{}:chat.example.org", r % 20)),
                    Value::Integer(t0),
                ],
            )?;
            for e in 0..EVENTS_PER_ROOM {
                stream += 1;
                let ts = t0 + (r * 1000 + e * 7) as i64;
                db.execute(
                    "INSERT INTO events (stream_ordering, topological_ordering, event_id, room_id, type, sender, origin_server_ts, received_ts, event_json) \
                     VALUES ($1, $2, $3, $4, 'm.room.message', $5, $6, $6, '{}')",
                    &[
                        Value::Integer(stream),
                        Value::Integer(e as i64),
                        Value::Text(format!("$event{stream}")),
                        Value::Text(room.clone()),
                        Value::Text(format!("@user{}:chat.example.org", e % 20)),
                        Value::Integer(ts),
                    ],
                )?;
            }
        }
        // 30 reports; every third one is sent twice.
        let mut id = 0;
        for n in 0..30 {
            let copies = if n % 3 == 0 { 2 } else { 1 };
            for _ in 0..copies {
                id += 1;
                db.execute(
                    "INSERT INTO event_reports (id, received_ts, room_id, event_id, user_id, reason) VALUES ($1, $2, $3, $4, $5, 'spam')",
                    &[
                        Value::Integer(id),
                        Value::Integer(t0 + id),
                        Value::Text("!room0000:chat.example.org".to_string()),
                        Value::Text(format!("$event{}", n + 1)),
                        Value::Text(format!("@user{}:chat.example.org", n % 20)),
                    ],
                )?;
            }
        }
        println!(
            "  data: 20 users, {ROOMS} rooms, {} events, {id} event reports ({} duplicates)",
            ROOMS * EVENTS_PER_ROOM,
            id - 30
        );
        Ok(())
    })();
    match result {
        Ok(()) => Ok(db.commit()?),
        Err(e) => {
            db.rollback()?;
            Err(e)
        }
    }
}

/// The start-up gate, then the background updates on a worker thread with progress, then
/// the gate again, now passing: upserts on the unique index are safe.
fn run_background_updates(url: &str) -> Result<()> {
    let gate = with_driver(url, |db| {
        Ok(background::require_completed(db, &[UNIQUE_REPORTS]))
    })?;
    match gate {
        Ok(()) => {}
        Err(strata::Error::UnknownBackgroundUpdate(_)) => return Ok(()), // not this database
        Err(e) => println!("  gate: {e}"),
    }
    let options = RunnerOptions {
        // Short batches, so that the sample data shows a few progress lines.
        target: Duration::from_millis(10),
        initial_batch: 20,
        min_batch: 10,
        pause: Duration::from_millis(1),
        ..RunnerOptions::default()
    };
    let handlers = Arc::new(handlers());
    let progress = |r: &BatchReport| print_progress(r);
    let worker = if let Some(path) = url.strip_prefix("sqlite:") {
        let conn = rusqlite::Connection::open(path)?;
        BackgroundWorker::spawn(SqliteDriver::owned(conn)?, handlers, options, progress)
    } else {
        let client = strata::driver::postgres::connect(url, Tls::Off)?;
        BackgroundWorker::spawn(PostgresDriver::owned(client), handlers, options, progress)
    };
    // The application would serve requests meanwhile; here the gate waits for the index.
    with_driver(url, |db| {
        background::wait_completed(
            db,
            &[UNIQUE_REPORTS],
            Duration::from_millis(20),
            Duration::from_secs(60),
        )?;
        let upsert = db.execute(
            "INSERT INTO event_reports (id, received_ts, room_id, event_id, user_id, reason) \
             VALUES (1000, 0, '!room0000:chat.example.org', '$event1', '@user0:chat.example.org', 'again') \
             ON CONFLICT (event_id, user_id) DO NOTHING",
            &[],
        )?;
        let reports = db.query("SELECT count(*) FROM event_reports", &[])?;
        println!(
            "  gate: {UNIQUE_REPORTS} completed: upserts enabled (a repeated report inserted {upsert} row(s); {} reports)",
            show(&reports[0][0])
        );
        Ok(())
    })?;
    worker.join()?;
    Ok(())
}

fn print_progress(r: &BatchReport) {
    if r.completed {
        println!("  background: {}: completed ({} item(s))", r.update, r.done);
        return;
    }
    let total = r
        .remaining
        .map(|left| format!(" of {}", r.done + left))
        .unwrap_or_default();
    let eta = match r.eta {
        Some(eta) if r.remaining != Some(0) => format!(", ETA {eta:.1?}"),
        _ => String::new(),
    };
    println!(
        "  background: {}: {}{total} item(s), {:.0} items/s{eta}",
        r.update,
        r.done,
        r.items_per_second(),
    );
}

fn print_status(db: &mut dyn Driver, stores: &[&str]) -> Result<()> {
    let options = Options {
        stores: Some(stores.iter().map(|s| s.to_string()).collect()),
        ..Options::default()
    };
    let status = Migrator::with_options(&db::MIGRATIONS, options).status(db)?;
    for s in &status.stores {
        println!(
            "  status: {} at version {} (compat {}), {} delta(s) applied, {} pending",
            s.store,
            s.version.map_or("-".to_string(), |v| v.to_string()),
            s.compat_version.map_or("-".to_string(), |v| v.to_string()),
            s.applied,
            s.pending.len()
        );
    }
    if status.pending_background_updates.is_empty() {
        println!("  status: background updates all completed");
    } else {
        println!(
            "  status: background updates pending: {}",
            status.pending_background_updates.join(", ")
        );
    }
    if stores.contains(&"main") {
        let busiest = db.query(
            &format!(
                "SELECT {id}, {ts} FROM {rooms} ORDER BY {ts} DESC, {id} LIMIT 1",
                id = db::rooms::ROOM_ID,
                ts = db::rooms::LAST_ACTIVITY_TS,
                rooms = db::rooms::TABLE
            ),
            &[],
        )?;
        if let Some(row) = busiest.first() {
            println!(
                "  status: most recently active room {} (last activity {})",
                show(&row[0]),
                show(&row[1])
            );
        }
    }
    Ok(())
}

/// Runs `f` with a driver on `url`.
fn with_driver<T>(url: &str, f: impl FnOnce(&mut dyn Driver) -> Result<T>) -> Result<T> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let mut conn = rusqlite::Connection::open(path)?;
        f(&mut SqliteDriver::new(&mut conn)?)
    } else {
        let mut client = strata::driver::postgres::connect(url, Tls::Off)?;
        f(&mut PostgresDriver::new(&mut client))
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "none".to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Text(t) => t.clone(),
        other => format!("{other:?}"),
    }
}
