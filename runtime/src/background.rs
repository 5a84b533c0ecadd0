//! Background updates: long data fixes and index builds that run in small resumable batches
//! after start-up, one at a time.
//!
//! Deltas schedule them with `INSERT INTO strata_background_updates (update_name,
//! progress_json, depends_on, ordering) VALUES (...)`; the application registers a handler
//! per name ([`Handlers`]) and runs them with a [`Runner`]. Completed updates stay recorded
//! (`completed_at`), so a finished dependency is told apart from a misspelled one.
//!
//! ```
//! use strata_runtime::background::{Batch, Handlers, Runner};
//! use strata_runtime::Value;
//!
//! let handlers = Handlers::new().batch("users_fill_lower_name", |tx, progress, size| {
//!     let last = progress["last_id"].as_i64().unwrap_or(0);
//!     let rows = tx.query(
//!         "SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT $2",
//!         &[Value::Integer(last), Value::Integer(size as i64)],
//!     )?;
//!     let Some(Value::Integer(max)) = rows.last().and_then(|r| r.first()).cloned() else {
//!         return Ok(Batch::Done { items: 0 });
//!     };
//!     tx.execute(
//!         "UPDATE users SET lower_name = lower(name) WHERE id > $1 AND id <= $2",
//!         &[Value::Integer(last), Value::Integer(max)],
//!     )?;
//!     Ok(Batch::Continue { progress: serde_json::json!({ "last_id": max }), items: rows.len() as u64 })
//! });
//! let _runner = Runner::new(&handlers);
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::migrate::now_ms;
use crate::transaction::{CodeError, Transaction, Value};

/// What one batch did.
#[derive(Debug, Clone, PartialEq)]
pub enum Batch {
    /// More to do: the progress to save (in the same transaction) and the items done.
    Continue {
        /// Saved as `progress_json`; given back to the next batch.
        progress: Json,
        /// Items done in this batch (drives the batch size).
        items: u64,
    },
    /// Finished: the update is recorded as completed.
    Done {
        /// Items done in this last batch.
        items: u64,
    },
}

type BatchFn = dyn Fn(&mut dyn Transaction, &Json, u64) -> Result<Batch, CodeError> + Send + Sync;
type RemainingFn = dyn Fn(&mut dyn Transaction, &Json) -> Result<u64, CodeError> + Send + Sync;
type OneShotFn = dyn Fn(&mut dyn Driver) -> Result<(), CodeError> + Send + Sync;

/// How an update runs.
pub enum Handler {
    /// In batches, each in a transaction with its progress.
    Batch(Box<BatchFn>),
    /// Once, outside a transaction on PostgreSQL (for `CREATE INDEX CONCURRENTLY`); it must be
    /// idempotent, since an interruption runs it again.
    OneShot(Box<OneShotFn>),
}

/// The handlers an application registers, by update name.
#[derive(Default)]
pub struct Handlers {
    map: BTreeMap<String, Handler>,
    remaining: BTreeMap<String, Box<RemainingFn>>,
}

impl Handlers {
    /// No handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// A batch handler: receives the transaction, the saved progress and the batch size; does
    /// up to that many items.
    pub fn batch(
        mut self,
        name: &str,
        f: impl Fn(&mut dyn Transaction, &Json, u64) -> Result<Batch, CodeError> + Send + Sync + 'static,
    ) -> Self {
        self.map
            .insert(name.to_string(), Handler::Batch(Box::new(f)));
        self
    }

    /// A one-shot handler (idempotent; outside a transaction on PostgreSQL).
    pub fn one_shot(
        mut self,
        name: &str,
        f: impl Fn(&mut dyn Driver) -> Result<(), CodeError> + Send + Sync + 'static,
    ) -> Self {
        self.map
            .insert(name.to_string(), Handler::OneShot(Box::new(f)));
        self
    }

    /// The built-in background index.
    pub fn index(self, name: &str, index: BackgroundIndex) -> Self {
        self.one_shot(name, move |db| index.build(db))
    }

    /// An update a later release retired: completes at once.
    pub fn noop(self, name: &str) -> Self {
        self.batch(name, |_, _, _| Ok(Batch::Done { items: 0 }))
    }

    /// How many items the update `name` still has to do, given its saved progress: the
    /// runner asks once when it starts the update, then counts down, and reports the
    /// estimated remaining time ([`BatchReport::eta`]). Optional; without it there is no ETA.
    ///
    /// ```
    /// # use strata_runtime::background::Handlers;
    /// # use strata_runtime::Value;
    /// let handlers = Handlers::new().remaining("users_fill_lower_name", |tx, progress| {
    ///     let last = progress["last_id"].as_i64().unwrap_or(0);
    ///     let rows = tx.query("SELECT count(*) FROM users WHERE id > $1", &[Value::Integer(last)])?;
    ///     Ok(match rows[0][0] { Value::Integer(n) => n as u64, _ => 0 })
    /// });
    /// # let _ = handlers;
    /// ```
    pub fn remaining(
        mut self,
        name: &str,
        f: impl Fn(&mut dyn Transaction, &Json) -> Result<u64, CodeError> + Send + Sync + 'static,
    ) -> Self {
        self.remaining.insert(name.to_string(), Box::new(f));
        self
    }

    /// Whether a handler is registered for `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }
}

/// The built-in background index: SQLite `CREATE INDEX IF NOT EXISTS`; PostgreSQL drops an
/// INVALID leftover of an interrupted build, then `CREATE INDEX CONCURRENTLY` outside a
/// transaction and without a statement timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackgroundIndex {
    /// Index name.
    pub name: String,
    /// Table.
    pub table: String,
    /// Indexed columns (or expressions).
    pub columns: Vec<String>,
    /// `UNIQUE`.
    pub unique: bool,
    /// Partial index condition.
    pub where_clause: Option<String>,
    /// An older index this one replaces (dropped after the build).
    pub replaces: Option<String>,
    /// For a unique index on existing data: delete duplicate rows first, keeping the row with
    /// the lowest value of this key column (the primary key; `rowid` on SQLite works too).
    pub dedupe_keep_lowest: Option<String>,
}

impl BackgroundIndex {
    /// A plain index on `table (columns)`.
    pub fn new(name: &str, table: &str, columns: &[&str]) -> Self {
        BackgroundIndex {
            name: name.to_string(),
            table: table.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            unique: false,
            where_clause: None,
            replaces: None,
            dedupe_keep_lowest: None,
        }
    }

    /// Makes it unique; with `dedupe_key`, duplicates are removed first, keeping the row
    /// with the lowest `dedupe_key`.
    pub fn unique(mut self, dedupe_key: Option<&str>) -> Self {
        self.unique = true;
        self.dedupe_keep_lowest = dedupe_key.map(str::to_string);
        self
    }

    /// Makes it partial.
    pub fn where_clause(mut self, condition: &str) -> Self {
        self.where_clause = Some(condition.to_string());
        self
    }

    /// Drops `old` once this index is built.
    pub fn replacing(mut self, old: &str) -> Self {
        self.replaces = Some(old.to_string());
        self
    }

    /// The `CREATE INDEX` statement on an engine without concurrent builds (what the
    /// checks run when they replay the history).
    pub fn create_sql(&self) -> String {
        format!(
            "CREATE {}INDEX IF NOT EXISTS {} ON {} ({}){}",
            if self.unique { "UNIQUE " } else { "" },
            self.name,
            self.table,
            self.columns.join(", "),
            self.where_clause
                .as_ref()
                .map(|w| format!(" WHERE {w}"))
                .unwrap_or_default()
        )
    }

    fn build(&self, db: &mut dyn Driver) -> Result<(), CodeError> {
        let cols = self.columns.join(", ");
        if let (true, Some(key)) = (self.unique, &self.dedupe_keep_lowest) {
            let not_null: Vec<String> = self
                .columns
                .iter()
                .map(|c| format!("{c} IS NOT NULL"))
                .collect();
            let not_null = not_null.join(" AND ");
            let filter = match &self.where_clause {
                Some(w) => format!("{not_null} AND ({w})"),
                None => not_null,
            };
            db.execute_batch(&format!(
                "DELETE FROM {t} WHERE {filter} AND {key} NOT IN (SELECT min({key}) FROM {t} WHERE {filter} GROUP BY {cols})",
                t = self.table
            ))?;
        }
        let unique = if self.unique { "UNIQUE " } else { "" };
        let predicate = self
            .where_clause
            .as_ref()
            .map(|w| format!(" WHERE {w}"))
            .unwrap_or_default();
        let concurrently = db.supports_concurrent_index();
        // PostgreSQL: no statement timeout for the build, and the connection's own one back
        // afterwards (the application keeps using this connection).
        let saved_timeout = if concurrently {
            db.drop_invalid_index(&self.name)?;
            let rows = db.query("SELECT current_setting('statement_timeout')", &[])?;
            let saved = match rows.first().and_then(|r| r.first()) {
                Some(Value::Text(t)) => t.clone(),
                _ => "0".to_string(),
            };
            db.execute_batch("SET statement_timeout = 0")?;
            Some(saved)
        } else {
            None
        };
        let built = (|| {
            db.execute_batch(&format!(
                "CREATE {unique}INDEX {}IF NOT EXISTS {} ON {} ({cols}){predicate}",
                if concurrently { "CONCURRENTLY " } else { "" },
                self.name,
                self.table
            ))?;
            if let Some(old) = &self.replaces {
                db.execute_batch(&format!(
                    "DROP INDEX {}IF EXISTS {old}",
                    if concurrently { "CONCURRENTLY " } else { "" }
                ))?;
            }
            Ok::<(), crate::error::DriverError>(())
        })();
        if let Some(saved) = saved_timeout {
            db.query(
                "SELECT set_config('statement_timeout', $1, false)",
                &[Value::Text(saved)],
            )?;
        }
        Ok(built?)
    }
}

/// A built-in update described by the scheduling delta itself, in its `progress_json`, so
/// that no application handler is needed (the generic `strata bg run` can run it, and the
/// checks apply its effect when they replay the history):
///
/// ```sql
/// INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering)
/// VALUES ('events_ts_idx', '{"builtin": "index", "index": "events_ts", "table": "events",
///         "columns": ["origin_server_ts"]}', NULL, 1201);
/// ```
///
/// Keys of `"builtin": "index"`: `index`, `table`, `columns`, and optionally `unique`
/// (bool), `where`, `replaces`, `dedupe_key`. `{"builtin": "noop"}` completes at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builtin {
    /// A background index.
    Index(BackgroundIndex),
    /// Nothing to do (a retired update).
    Noop,
}

impl Builtin {
    /// Reads a built-in description from a `progress_json` value; `None` when it is not one.
    pub fn from_json(json: &Json) -> Option<Result<Builtin, String>> {
        let kind = json.get("builtin")?;
        Some(match kind.as_str() {
            Some("noop") => Ok(Builtin::Noop),
            Some("index") => {
                let text = |k: &str| json.get(k).and_then(Json::as_str).map(str::to_string);
                let (Some(name), Some(table)) = (text("index"), text("table")) else {
                    return Some(Err(
                        "a built-in index needs \"index\" and \"table\"".to_string()
                    ));
                };
                let columns: Vec<String> = json
                    .get("columns")
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Json::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                if columns.is_empty() {
                    return Some(Err("a built-in index needs \"columns\"".to_string()));
                }
                Ok(Builtin::Index(BackgroundIndex {
                    name,
                    table,
                    columns,
                    unique: json.get("unique").and_then(Json::as_bool).unwrap_or(false),
                    where_clause: text("where"),
                    replaces: text("replaces"),
                    dedupe_keep_lowest: text("dedupe_key"),
                }))
            }
            _ => Err(format!(
                "unknown built-in update {kind}: expected \"index\" or \"noop\""
            )),
        })
    }

    /// The built-in a queue row describes.
    fn of(row: &UpdateRow) -> Option<Result<Builtin, String>> {
        serde_json::from_str::<Json>(&row.progress)
            .ok()
            .as_ref()
            .and_then(Builtin::from_json)
    }
}

/// How the runner sizes and paces batches.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// How long a batch should take (default 100 ms).
    pub target: Duration,
    /// The first batch's size (default 100).
    pub initial_batch: u64,
    /// The smallest batch (default 1).
    pub min_batch: u64,
    /// Pause between batches, leaving the application its share (default 0).
    pub pause: Duration,
    /// Failures in a row that stop the runner with the error (default 5).
    pub max_failures: u32,
    /// How often to look again while another runner (thread or process) holds the update
    /// that is next (default 500 ms).
    pub idle_poll: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            target: Duration::from_millis(100),
            initial_batch: 100,
            min_batch: 1,
            pause: Duration::ZERO,
            max_failures: 5,
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// One batch's outcome: the progress event for callers and `tracing` (target `strata`).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchReport {
    /// The update.
    pub update: String,
    /// Items done.
    pub items: u64,
    /// The batch size asked for.
    pub batch_size: u64,
    /// How long the batch took (its transaction included).
    pub duration: Duration,
    /// Whether the update completed with this batch.
    pub completed: bool,
    /// Items per millisecond, moving average.
    pub rate: f64,
    /// Items this runner has done on this update so far, this batch included.
    pub done: u64,
    /// Items left, when the handler registered an estimate ([`Handlers::remaining`]).
    pub remaining: Option<u64>,
    /// Estimated time to finish the update (`remaining / rate`, pauses excluded).
    pub eta: Option<Duration>,
}

impl BatchReport {
    /// Items per second (from the moving average).
    pub fn items_per_second(&self) -> f64 {
        self.rate * 1000.0
    }
}

/// A row of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRow {
    /// `update_name`.
    pub name: String,
    /// `progress_json`.
    pub progress: String,
    /// `depends_on`.
    pub depends_on: Option<String>,
    /// `ordering`.
    pub ordering: i64,
    /// Whether it completed.
    pub completed: bool,
}

/// All updates, by (ordering, name).
pub fn updates(db: &mut dyn Transaction) -> Result<Vec<UpdateRow>> {
    let rows = db.query(
        "SELECT update_name, progress_json, depends_on, ordering, completed_at FROM strata_background_updates ORDER BY ordering, update_name",
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| UpdateRow {
            name: text(&r[0]).unwrap_or_default(),
            progress: text(&r[1]).unwrap_or_else(|| "{}".to_string()),
            depends_on: text(&r[2]),
            ordering: match r[3] {
                Value::Integer(i) => i,
                _ => 0,
            },
            completed: r[4] != Value::Null,
        })
        .collect())
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t.clone()),
        _ => None,
    }
}

/// Whether the update `name` ran to completion. An unknown name is an error.
pub fn has_completed(db: &mut dyn Transaction, name: &str) -> Result<bool> {
    let rows = db.query(
        "SELECT completed_at FROM strata_background_updates WHERE update_name = $1",
        &[Value::Text(name.to_string())],
    )?;
    match rows.first() {
        Some(r) => Ok(r[0] != Value::Null),
        None => Err(Error::UnknownBackgroundUpdate(name.to_string())),
    }
}

/// Whether every scheduled update completed (one indexed lookup, no scan).
pub fn all_completed(db: &mut dyn Transaction) -> Result<bool> {
    let rows = db.query(
        "SELECT 1 FROM strata_background_updates WHERE completed_at IS NULL LIMIT 1",
        &[],
    )?;
    Ok(rows.is_empty())
}

/// The start-up gate: `Err` naming the updates in `needed` that have not completed.
pub fn require_completed(db: &mut dyn Transaction, needed: &[&str]) -> Result<()> {
    let mut pending = Vec::new();
    for name in needed {
        if !has_completed(db, name)? {
            pending.push(name.to_string());
        }
    }
    if pending.is_empty() {
        Ok(())
    } else {
        Err(Error::BackgroundUpdatesPending(pending))
    }
}

/// Runs background updates: the runnable update with the lowest (ordering, name) whose
/// dependency completed, and only that one until it finishes.
pub struct Runner<'h> {
    handlers: &'h Handlers,
    options: RunnerOptions,
    /// Items per millisecond, exponential moving average.
    rate: Option<f64>,
    failures: u32,
    /// The update this runner worked on last, with its count and remaining estimate.
    current: Option<Current>,
    /// The size of the last measured batch.
    last_size: Option<u64>,
}

struct Current {
    update: String,
    done: u64,
    remaining: Option<u64>,
}

impl<'h> Runner<'h> {
    /// A runner with default options.
    pub fn new(handlers: &'h Handlers) -> Self {
        Self::with_options(handlers, RunnerOptions::default())
    }

    /// A runner with `options`.
    pub fn with_options(handlers: &'h Handlers, options: RunnerOptions) -> Self {
        Runner {
            handlers,
            options,
            rate: None,
            failures: 0,
            current: None,
            last_size: None,
        }
    }

    /// Scheduled, unfinished updates without a handler.
    pub fn missing_handlers(&self, db: &mut dyn Driver) -> Result<Vec<String>> {
        Ok(updates(db)?
            .into_iter()
            .filter(|u| {
                !u.completed && !self.handlers.contains(&u.name) && Builtin::of(u).is_none()
            })
            .map(|u| u.name)
            .collect())
    }

    /// The start-up check: every unfinished update has a handler.
    pub fn check(&self, db: &mut dyn Driver) -> Result<()> {
        let missing = self.missing_handlers(db)?;
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::MissingHandlers(missing))
        }
    }

    /// The next batch size: target duration x measured rate (a moving average), at most
    /// four times the last batch, never below the minimum.
    pub fn batch_size(&self) -> u64 {
        match self.rate {
            None => self.options.initial_batch,
            Some(rate) => {
                let ideal = (self.options.target.as_secs_f64() * 1000.0 * rate) as u64;
                let capped = match self.last_size {
                    Some(last) => ideal.min(last.saturating_mul(4)),
                    None => ideal,
                };
                capped.max(self.options.min_batch)
            }
        }
    }

    /// Feeds one batch's measurement (`items` done in `duration`, `size` asked for) into
    /// the rate. Asymmetric moving average: slow batches pull the rate down fast (a database
    /// under load gets smaller batches at once), fast ones raise it more gently; the next
    /// batch also grows at most 4x (see [`batch_size`](Self::batch_size)).
    fn observe(&mut self, items: u64, duration: Duration, size: u64) {
        let ms = duration.as_secs_f64() * 1000.0;
        if items > 0 && ms > 0.0 {
            let measured = items as f64 / ms;
            self.rate = Some(match self.rate {
                None => measured,
                Some(old) if measured < old => 0.5 * old + 0.5 * measured,
                Some(old) => 0.7 * old + 0.3 * measured,
            });
            self.last_size = Some(size);
        }
    }

    /// The update to run next, or `None` when nothing is runnable.
    fn next(&self, db: &mut dyn Driver) -> Result<Option<UpdateRow>> {
        let all = updates(db)?;
        let completed = |name: &str| all.iter().any(|u| u.name == name && u.completed);
        let pending: Vec<&UpdateRow> = all.iter().filter(|u| !u.completed).collect();
        for u in &pending {
            match &u.depends_on {
                None => return Ok(Some((*u).clone())),
                Some(dep) if completed(dep) => return Ok(Some((*u).clone())),
                Some(dep) if !all.iter().any(|x| &x.name == dep) => {
                    return Err(Error::UnknownBackgroundDependency {
                        update: u.name.clone(),
                        depends_on: dep.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        if pending.is_empty() {
            Ok(None)
        } else {
            // Every pending update waits on another pending one: a cycle.
            Err(Error::BackgroundDependencyCycle(
                pending.iter().map(|u| u.name.clone()).collect(),
            ))
        }
    }

    /// Runs one batch of the next runnable update. `Ok(None)`: nothing to do.
    pub fn run_batch(&mut self, db: &mut dyn Driver) -> Result<Option<BatchReport>> {
        let Some(update) = self.next(db)? else {
            return Ok(None);
        };
        if self.current.as_ref().map(|c| &c.update) != Some(&update.name) {
            self.rate = None; // another update: another kind of item
            self.last_size = None;
            let remaining = match self.handlers.remaining.get(&update.name) {
                Some(estimate) => {
                    let progress = serde_json::from_str(&update.progress)
                        .unwrap_or(Json::Object(Default::default()));
                    match estimate(db, &progress) {
                        Ok(n) => Some(n),
                        Err(e) => {
                            tracing::warn!(target: "strata", update = %update.name, error = %e, "could not estimate the items left");
                            None
                        }
                    }
                }
                None => None,
            };
            self.current = Some(Current {
                update: update.name.clone(),
                done: 0,
                remaining,
            });
        }
        let size = self.batch_size();
        let started = Instant::now();
        let outcome = match (self.handlers.map.get(&update.name), Builtin::of(&update)) {
            (Some(Handler::Batch(f)), _) => {
                run_batch_in_transaction(db, &update.name, size, f.as_ref())
            }
            (Some(Handler::OneShot(f)), _) => run_one_shot(db, &update.name, f.as_ref()),
            (None, Some(Ok(Builtin::Index(index)))) => {
                run_one_shot(db, &update.name, &move |db: &mut dyn Driver| {
                    index.build(db)
                })
            }
            (None, Some(Ok(Builtin::Noop))) => {
                run_one_shot(db, &update.name, &|_: &mut dyn Driver| Ok(()))
            }
            (None, Some(Err(e))) => Err(format!("`{}`: {e}", update.name).into()),
            (None, None) => return Err(Error::MissingHandlers(vec![update.name])),
        };
        let duration = started.elapsed();
        match outcome {
            Ok(None) => Ok(None), // another runner finished it meanwhile
            Ok(Some((items, completed))) => {
                self.failures = 0;
                self.observe(items, duration, size);
                let rate = self.rate.unwrap_or(0.0);
                let current = self.current.as_mut().expect("set above");
                current.done += items;
                if let Some(r) = current.remaining.as_mut() {
                    *r = r.saturating_sub(items);
                }
                let remaining = if completed {
                    Some(0)
                } else {
                    current.remaining
                };
                let eta = match remaining {
                    Some(0) => Some(Duration::ZERO),
                    Some(n) if rate > 0.0 => {
                        Some(Duration::from_secs_f64(n as f64 / rate / 1000.0))
                    }
                    _ => None,
                };
                let report = BatchReport {
                    update: update.name,
                    items,
                    batch_size: size,
                    duration,
                    completed,
                    rate,
                    done: current.done,
                    remaining,
                    eta,
                };
                tracing::info!(target: "strata", update = %report.update, items, batch_size = size,
                    duration_ms = duration.as_millis() as u64, done = report.done, remaining = ?report.remaining,
                    eta_s = ?report.eta.map(|d| d.as_secs()), items_per_s = report.items_per_second() as u64,
                    completed, "background update batch");
                Ok(Some(report))
            }
            Err(e) => {
                self.failures += 1;
                tracing::warn!(target: "strata", update = %update.name, failures = self.failures, error = %e, "background update batch failed");
                if self.failures >= self.options.max_failures {
                    Err(Error::BackgroundUpdateFailed {
                        update: update.name,
                        failures: self.failures,
                        source: e,
                    })
                } else {
                    Err(Error::BackgroundBatchFailed {
                        update: update.name,
                        source: e,
                    })
                }
            }
        }
    }

    /// Runs batches until every update completed (tests, the CLI), pausing between batches.
    /// While another runner holds the next update, it waits (polling every `idle_poll`).
    /// A failing batch is retried; `max_failures` in a row stop with the error.
    pub fn run_until_done(
        &mut self,
        db: &mut dyn Driver,
        mut on_batch: impl FnMut(&BatchReport),
    ) -> Result<Vec<BatchReport>> {
        let mut reports = Vec::new();
        self.run_loop(db, &Stop::default(), |r| {
            on_batch(r);
            reports.push(r.clone());
        })?;
        Ok(reports)
    }

    /// The loop of [`run_until_done`](Self::run_until_done) and of the worker thread:
    /// returns `Ok(true)` when everything completed, `Ok(false)` when stopped.
    fn run_loop(
        &mut self,
        db: &mut dyn Driver,
        stop: &Stop,
        mut on_batch: impl FnMut(&BatchReport),
    ) -> Result<bool> {
        loop {
            if stop.is_stopped() {
                return Ok(false);
            }
            let wait = match self.run_batch(db) {
                Ok(Some(r)) => {
                    on_batch(&r);
                    self.options.pause
                }
                Ok(None) if all_completed(db)? => return Ok(true),
                // Another runner holds the next update: look again later.
                Ok(None) => self.options.idle_poll,
                Err(Error::BackgroundBatchFailed { .. }) => self.options.pause,
                Err(e) => return Err(e),
            };
            if !wait.is_zero() && stop.sleep(wait) {
                return Ok(false);
            }
        }
    }
}

/// The stop signal of a [`BackgroundWorker`]: a flag and a condition variable, so that a
/// worker sleeping between batches wakes at once.
#[derive(Default)]
struct Stop {
    stopped: std::sync::Mutex<bool>,
    wake: std::sync::Condvar,
}

impl Stop {
    fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_all();
    }

    /// Sleeps up to `d`; `true` when stopped meanwhile.
    fn sleep(&self, d: Duration) -> bool {
        let guard = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, d, |stopped| !*stopped)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }
}

/// Asks a [`BackgroundWorker`] to stop; cheap to clone and to send to other threads (a
/// signal handler, a shutdown hook).
#[derive(Clone)]
pub struct StopHandle(std::sync::Arc<Stop>);

impl StopHandle {
    /// Asks the worker to stop after the batch in progress (whose work and progress commit
    /// together, so nothing is lost); a worker pausing between batches stops at once.
    pub fn stop(&self) {
        self.0.stop();
    }
}

/// How a [`BackgroundWorker`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerExit {
    /// Every scheduled update completed.
    Completed,
    /// Stopped through its [`StopHandle`] before the end.
    Stopped,
}

/// Background updates on a thread of their own, after start-up: batches with pauses until
/// every update completed or [`stop`](Self::stop) is called. The driver moves to the thread,
/// so it owns its connection ([`SqliteDriver::owned`](crate::driver::sqlite::SqliteDriver::owned),
/// `PostgresDriver::owned`).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use strata_runtime::background::{BackgroundWorker, Handlers, RunnerOptions, WorkerExit};
/// use strata_runtime::driver::sqlite::SqliteDriver;
///
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("app.db");
/// # { let mut c = rusqlite::Connection::open(&path)?;
/// #   strata_runtime::Migrator::new(&strata_runtime::Migrations::EMPTY).apply(&mut SqliteDriver::new(&mut c)?)?; }
/// let driver = SqliteDriver::owned(rusqlite::Connection::open(&path)?)?;
/// let worker = BackgroundWorker::spawn(driver, Arc::new(Handlers::new()), RunnerOptions::default(),
///     |report| println!("{}: {} done, eta {:?}", report.update, report.done, report.eta));
/// let stop = worker.stop_handle(); // e.g. for a shutdown hook
/// # let _ = stop;
/// assert_eq!(worker.join()?, WorkerExit::Completed); // or worker.stop()?
/// # Ok(()) }
/// ```
pub struct BackgroundWorker {
    stop: StopHandle,
    thread: std::thread::JoinHandle<Result<WorkerExit>>,
}

impl BackgroundWorker {
    /// Starts the thread. It first checks that every unfinished update has a handler (the
    /// thread ends with [`Error::MissingHandlers`] otherwise), then runs batches, calling
    /// `on_batch` with each report.
    pub fn spawn<D>(
        mut db: D,
        handlers: std::sync::Arc<Handlers>,
        options: RunnerOptions,
        mut on_batch: impl FnMut(&BatchReport) + Send + 'static,
    ) -> BackgroundWorker
    where
        D: Driver + Send + 'static,
    {
        let stop = StopHandle(std::sync::Arc::new(Stop::default()));
        let signal = stop.clone();
        let thread = std::thread::Builder::new()
            .name("strata-background".to_string())
            .spawn(move || {
                let mut runner = Runner::with_options(&handlers, options);
                runner.check(&mut db)?;
                match runner.run_loop(&mut db, &signal.0, &mut on_batch)? {
                    true => Ok(WorkerExit::Completed),
                    false => Ok(WorkerExit::Stopped),
                }
            })
            .expect("the OS creates a thread");
        BackgroundWorker { stop, thread }
    }

    /// A handle that stops the worker from elsewhere.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Stops after the batch in progress and waits for the thread.
    pub fn stop(self) -> Result<WorkerExit> {
        self.stop.stop();
        self.join()
    }

    /// Waits for the thread to end (all updates completed, stopped, or failed).
    pub fn join(self) -> Result<WorkerExit> {
        match self.thread.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// The start-up gate that waits: polls until every update in `needed` completed (while a
/// worker runs them), or fails after `timeout` with [`Error::BackgroundUpdatesPending`]
/// naming those still pending. An unknown name is an error at once.
pub fn wait_completed(
    db: &mut dyn Transaction,
    needed: &[&str],
    poll: Duration,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match require_completed(db, needed) {
            Err(Error::BackgroundUpdatesPending(_)) if Instant::now() < deadline => {
                std::thread::sleep(poll.min(deadline.saturating_duration_since(Instant::now())));
            }
            other => return other,
        }
    }
}

/// One batch in a transaction that also saves its progress. `Ok(None)` when the update was
/// completed by someone else.
fn run_batch_in_transaction(
    db: &mut dyn Driver,
    name: &str,
    size: u64,
    f: &BatchFn,
) -> Result<Option<(u64, bool)>, CodeError> {
    crate::driver::in_transaction(db, |db| -> Result<Option<(u64, bool)>, CodeError> {
        // Re-read under the lock: another runner may have moved it on.
        db.lock_background_update(name)?;
        let rows = db.query(
            "SELECT progress_json, completed_at FROM strata_background_updates WHERE update_name = $1",
            &[Value::Text(name.to_string())],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        if row[1] != Value::Null {
            return Ok(None);
        }
        let progress: Json = match &row[0] {
            Value::Text(t) => serde_json::from_str(t)
                .map_err(|e| format!("progress of `{name}` is not JSON: {e}"))?,
            _ => Json::Object(Default::default()),
        };
        match f(db, &progress, size)? {
            Batch::Continue { progress, items } => {
                db.execute(
                    "UPDATE strata_background_updates SET progress_json = $1 WHERE update_name = $2",
                    &[Value::Text(progress.to_string()), Value::Text(name.to_string())],
                )?;
                Ok(Some((items, false)))
            }
            Batch::Done { items } => {
                db.execute(
                    "UPDATE strata_background_updates SET completed_at = $1 WHERE update_name = $2",
                    &[Value::Integer(now_ms()), Value::Text(name.to_string())],
                )?;
                Ok(Some((items, true)))
            }
        }
    })
}

/// A one-shot update. On SQLite it runs in one `BEGIN IMMEDIATE` transaction with its
/// completion (atomic, and one writer at a time across processes; a runner that finds the
/// database busy leaves it to the other). On PostgreSQL it runs outside a transaction (for
/// `CREATE INDEX CONCURRENTLY`) holding the background advisory lock, which another runner
/// then skips.
fn run_one_shot(
    db: &mut dyn Driver,
    name: &str,
    f: &OneShotFn,
) -> Result<Option<(u64, bool)>, CodeError> {
    if !db.supports_concurrent_index() {
        if let Err(e) = db.begin() {
            if e.code.as_deref() == Some("DatabaseBusy") {
                return Ok(None);
            }
            return Err(e.into());
        }
        let result = run_and_complete(db, name, f);
        return match result {
            Ok(r) => {
                db.commit()?;
                Ok(r)
            }
            Err(e) => {
                db.rollback()?;
                Err(e)
            }
        };
    }
    if !db.try_lock_background()? {
        return Ok(None);
    }
    let result = run_and_complete(db, name, f);
    let unlocked = db.unlock_background();
    let r = result?;
    unlocked?;
    Ok(r)
}

/// Runs a one-shot update unless it completed meanwhile, and records its completion.
fn run_and_complete(
    db: &mut dyn Driver,
    name: &str,
    f: &OneShotFn,
) -> Result<Option<(u64, bool)>, CodeError> {
    if has_completed(db, name)? {
        return Ok(None);
    }
    f(db)?;
    db.execute(
        "UPDATE strata_background_updates SET completed_at = $1 WHERE update_name = $2",
        &[Value::Integer(now_ms()), Value::Text(name.to_string())],
    )?;
    Ok(Some((1, true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_size_follows_the_measured_rate_within_its_limits() {
        let handlers = Handlers::new();
        let options = RunnerOptions {
            initial_batch: 50,
            min_batch: 10,
            target: Duration::from_millis(100),
            ..RunnerOptions::default()
        };
        let mut r = Runner::with_options(&handlers, options);
        // Nothing measured yet: the initial size.
        assert_eq!(r.batch_size(), 50);
        // 50 items in 10 ms: 5 items/ms, 500 for 100 ms, but at most 4x the last batch.
        r.observe(50, Duration::from_millis(10), 50);
        assert_eq!(r.batch_size(), 200);
        // 200 in 40 ms: still 5/ms; now 500 fits under 4 x 200.
        r.observe(200, Duration::from_millis(40), 200);
        assert_eq!(r.batch_size(), 500);
        // A slow batch (1 item/ms) halves the gap at once: (5 + 1) / 2 = 3/ms -> 300.
        r.observe(500, Duration::from_millis(500), 500);
        assert_eq!(r.batch_size(), 300);
        // A fast one (9/ms) raises it by 30% of the gap: 0.7 x 3 + 0.3 x 9 = 4.8/ms -> 480.
        r.observe(300, Duration::from_secs_f64(300.0 / 9.0 / 1000.0), 300);
        assert_eq!(r.batch_size(), 480);
        // Very slow: never below the minimum.
        for _ in 0..20 {
            r.observe(1, Duration::from_secs(1), 10);
        }
        assert_eq!(r.batch_size(), 10);
        // A batch that did nothing tells nothing about the rate.
        let before = r.batch_size();
        r.observe(0, Duration::from_millis(5), 10);
        assert_eq!(r.batch_size(), before);
    }
}
