//! The migrator: decides what to run on a database and runs it safely.
//!
//! Per physical database, `common` first, then each selected store:
//! - a fresh store loads the newest snapshot at or below the target, then the deltas after it;
//! - an existing store runs every delta after its snapshot that is not recorded yet, in order,
//!   including late additions to the current version's folder; a missing delta in an older
//!   version is an error, never skipped;
//! - consecutive transactional deltas share one transaction with a savepoint each, committed
//!   once; a failing delta is rolled back to its savepoint, the ones before it are committed;
//! - `no-transaction` deltas run alone and are recorded after success; `foreign-keys-off`
//!   deltas run with foreign keys off and `PRAGMA foreign_key_check` before commit.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::driver::{AppliedRow, Driver, VersionRow};
use crate::error::{DeltaFailure, DriverError, Error, Result};
use crate::plan::{Body, Delta, Migrations, Store};

/// What to do with an applied delta whose checksum changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChecksumPolicy {
    /// Refuse to migrate (the default).
    #[default]
    Error,
    /// Report it in [`Report::warnings`] and go on.
    Warn,
}

/// Options of a migration run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Stop at this version instead of the plan's target.
    pub to_version: Option<u32>,
    /// Stores to migrate in this database (default: all). `common` is always included.
    pub stores: Option<Vec<String>>,
    /// Changed checksums: error (default) or warning.
    pub checksum_policy: ChecksumPolicy,
    /// Commit after every delta instead of once per run of transactional deltas.
    pub commit_each_delta: bool,
}

/// One thing the migrator does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'p> {
    /// Load a snapshot into a fresh store.
    Snapshot {
        /// Store.
        store: &'p str,
        /// Snapshot version.
        version: u32,
        /// Its bodies for the engine, in order.
        bodies: Vec<Body>,
    },
    /// Run a delta.
    Delta {
        /// Store.
        store: &'p str,
        /// The delta.
        delta: Delta,
        /// Its body for the engine (`None`: the delta does not run on this engine and is
        /// only recorded).
        body: Option<Body>,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Snapshots loaded: (store, version).
    pub snapshots: Vec<(String, u32)>,
    /// Deltas applied: (store, version, name).
    pub applied: Vec<(String, u32, String)>,
    /// Versions per store before the run (`None`: fresh).
    pub before: Vec<(String, Option<u32>)>,
    /// Versions per store after the run.
    pub after: Vec<(String, u32)>,
    /// Non-fatal findings (changed checksums under [`ChecksumPolicy::Warn`]).
    pub warnings: Vec<String>,
    /// Whether the fast path found the database up to date (nothing was locked or written).
    pub up_to_date: bool,
}

impl Report {
    /// Per store, `"<store> <before> -> <after>"` (`new` for a fresh store), in store order:
    /// the one-line summary the CLI and the example print.
    pub fn version_changes(&self) -> Vec<String> {
        self.after
            .iter()
            .map(|(store, after)| {
                let before = self
                    .before
                    .iter()
                    .find(|(s, _)| s == store)
                    .and_then(|(_, v)| *v)
                    .map_or("new".to_string(), |v| v.to_string());
                format!("{store} {before} -> {after}")
            })
            .collect()
    }
}

/// Applies a [`Migrations`] plan to databases.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use strata_runtime::plan::*;
/// use strata_runtime::{Engine, Migrator};
/// // A plan is usually `include_migrations!`'s or `strata_schema::load_plan`'s; by hand:
/// let mut table = TableBuilder::default();
/// table.push_sql(1, "01_users", &[BodyInput {
///     engine: Engine::Sqlite,
///     file: "delta/1/01_users.sql",
///     statements: &["CREATE TABLE users (id INTEGER PRIMARY KEY)"],
///     no_transaction: false,
///     foreign_keys_off: false,
///     checksum: "c1",
///     concurrent_index: None,
/// }]);
/// let plan = Migrations {
///     engines: &[Engine::Sqlite],
///     stores: leak_list(vec![Store {
///         name: "main",
///         snapshots: &[],
///         deltas: Scripts::new(table.finish(), 0, 1),
///         digest: "d1",
///     }]),
///     common: None,
///     target_version: 1,
///     compat_version: 1,
///     fingerprint: "f1",
///     background_updates: &[],
/// };
/// let mut conn = rusqlite::Connection::open_in_memory()?;
/// let mut db = strata_runtime::driver::sqlite::SqliteDriver::new(&mut conn)?;
/// let report = Migrator::new(&plan).apply(&mut db)?;
/// assert_eq!(report.applied.len(), 1);
/// assert!(Migrator::new(&plan).apply(&mut db)?.up_to_date);
/// # Ok(()) }
/// ```
pub struct Migrator<'p> {
    plan: &'p Migrations,
    options: Options,
    observer: Option<&'p (dyn Fn(&Event<'_>) + Sync)>,
}

/// Progress of a run, for callers ([`Migrator::on_event`]) and `tracing` (every event is
/// also logged at INFO level under the `strata` target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A snapshot starts loading into a fresh store.
    SnapshotStarted {
        /// Store.
        store: &'a str,
        /// Snapshot version.
        version: u32,
        /// 1-based step number in this run.
        index: usize,
        /// Steps in this run.
        total: usize,
    },
    /// A delta starts.
    DeltaStarted {
        /// Store.
        store: &'a str,
        /// Version.
        version: u32,
        /// Name.
        name: &'a str,
        /// 1-based step number in this run.
        index: usize,
        /// Steps in this run.
        total: usize,
    },
    /// A delta was applied and recorded.
    DeltaApplied {
        /// Store.
        store: &'a str,
        /// Version.
        version: u32,
        /// Name.
        name: &'a str,
        /// 1-based step number in this run.
        index: usize,
        /// Steps in this run.
        total: usize,
        /// How long it took.
        duration: std::time::Duration,
    },
}

/// One store's state, from [`Migrator::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStatus {
    /// Store name.
    pub store: String,
    /// Its version (`None`: not created yet).
    pub version: Option<u32>,
    /// Its recorded compat version.
    pub compat_version: Option<u32>,
    /// The snapshot it was built from.
    pub snapshot_version: Option<u32>,
    /// Whether deltas ran on it after its snapshot.
    pub upgraded: bool,
    /// Number of applied deltas recorded.
    pub applied: usize,
    /// The snapshot `apply` would load (fresh stores).
    pub pending_snapshot: Option<u32>,
    /// Deltas `apply` would run: (version, name).
    pub pending: Vec<(u32, String)>,
    /// Why `apply` would refuse (or warn), if it would.
    pub problem: Option<String>,
}

/// Every store's state and the background updates not completed yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Per store, `common` first.
    pub stores: Vec<StoreStatus>,
    /// Names of background updates not completed yet.
    pub pending_background_updates: Vec<String>,
}

impl Status {
    /// Whether there is nothing to apply and no refusal.
    pub fn is_up_to_date(&self) -> bool {
        self.stores
            .iter()
            .all(|s| s.pending.is_empty() && s.pending_snapshot.is_none() && s.problem.is_none())
    }
}

/// Milliseconds since the Unix epoch (what the bookkeeping records).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn shorten(sql: &str) -> String {
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 200 {
        format!("{}...", one_line.chars().take(200).collect::<String>())
    } else {
        one_line
    }
}

impl<'p> Migrator<'p> {
    /// A migrator for `plan` with default options.
    pub fn new(plan: &'p Migrations) -> Self {
        Self::with_options(plan, Options::default())
    }

    /// A migrator with `options`.
    pub fn with_options(plan: &'p Migrations, options: Options) -> Self {
        Migrator {
            plan,
            options,
            observer: None,
        }
    }

    /// Calls `observer` with the progress of each run (a progress bar, a log line...).
    pub fn on_event(mut self, observer: &'p (dyn Fn(&Event<'_>) + Sync)) -> Self {
        self.observer = Some(observer);
        self
    }

    fn emit(&self, event: &Event<'_>) {
        match *event {
            Event::SnapshotStarted {
                store,
                version,
                index,
                total,
            } => {
                tracing::info!(target: "strata", store, version, index, total, "loading snapshot")
            }
            Event::DeltaStarted {
                store,
                version,
                name,
                index,
                total,
            } => {
                tracing::info!(target: "strata", store, version, name, index, total, "applying delta")
            }
            Event::DeltaApplied {
                store,
                version,
                name,
                duration,
                ..
            } => {
                tracing::info!(target: "strata", store, version, name, duration_ms = duration.as_millis() as u64, "applied delta")
            }
        }
        if let Some(observer) = self.observer {
            observer(event);
        }
    }

    fn target(&self) -> u32 {
        self.options
            .to_version
            .map_or(self.plan.target_version, |t| {
                t.min(self.plan.target_version)
            })
    }

    /// `common` (when the plan has it) and the selected stores, in run order.
    fn stores(&self) -> Result<Vec<&'p Store>> {
        let mut out: Vec<&'p Store> = self.plan.common.iter().collect();
        match &self.options.stores {
            None => out.extend(self.plan.stores.iter()),
            Some(names) => {
                for n in names {
                    match self.plan.stores.iter().find(|s| s.name == n.as_str()) {
                        Some(s) => out.push(s),
                        None => return Err(Error::UnknownStore(n.clone())),
                    }
                }
            }
        }
        Ok(out)
    }

    /// The fast, read-only check: reads one row per store. `true` when there is nothing to do.
    pub fn is_up_to_date(&self, db: &mut dyn Driver) -> Result<bool> {
        if !db.bookkeeping_exists()? {
            return Ok(false);
        }
        let target = self.target();
        for store in self.stores()? {
            let Some(row) = db.version(store.name)? else {
                return Ok(false);
            };
            let done = if row.version > self.plan.target_version {
                // A newer database this code may run against: nothing for us to apply.
                row.compat_version <= self.plan.target_version
            } else {
                row.version == target
                    && target == self.plan.target_version
                    && row.plan_digest.as_deref() == Some(store.digest)
            };
            if !done {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Applies the plan: everything pending up to the target.
    pub fn apply(&self, db: &mut dyn Driver) -> Result<Report> {
        if self.is_up_to_date(db)? {
            return Ok(Report {
                up_to_date: true,
                ..Report::default()
            });
        }
        db.lock()?;
        let result = self.apply_locked(db);
        let unlocked = db.unlock();
        let report = result?;
        unlocked?;
        Ok(report)
    }

    /// What [`apply`](Self::apply) would run, without running it.
    pub fn plan_steps(&self, db: &mut dyn Driver) -> Result<Vec<Step<'p>>> {
        let mut report = Report::default();
        let mut steps = Vec::new();
        let exists = db.bookkeeping_exists()?;
        for store in self.stores()? {
            let (row, applied) = if exists {
                (db.version(store.name)?, db.applied(store.name)?)
            } else {
                (None, Vec::new())
            };
            steps.extend(self.store_steps(
                db.engine(),
                store,
                row.as_ref(),
                &applied,
                &mut report,
            )?);
        }
        Ok(steps)
    }

    /// What [`apply`](Self::apply) would run on a fresh database of `engine` (offline plans).
    pub fn fresh_steps(&self, engine: crate::Engine) -> Result<Vec<Step<'p>>> {
        let mut report = Report::default();
        let mut steps = Vec::new();
        for store in self.stores()? {
            steps.extend(self.store_steps(engine, store, None, &[], &mut report)?);
        }
        Ok(steps)
    }

    fn apply_locked(&self, db: &mut dyn Driver) -> Result<Report> {
        let mut report = Report::default();
        db.begin()?;
        let mut tx = Tx {
            open: true,
            clean: false,
        };
        let result = self.run(db, &mut tx, &mut report);
        match result {
            Ok(()) => {
                tx.close(db)?;
                Ok(report)
            }
            Err(e) => {
                if tx.open {
                    if tx.clean {
                        // The failed step was rolled back to its savepoint: keep the deltas
                        // recorded before it.
                        db.commit()?;
                    } else {
                        // Failed somewhere no savepoint covers: undo the transaction.
                        db.rollback()?;
                    }
                }
                Err(e)
            }
        }
    }

    fn ensure_bookkeeping(&self, db: &mut dyn Driver) -> Result<()> {
        // Idempotent statements: they also repair a half-created set.
        for sql in crate::bookkeeping::create_statements(db.engine()) {
            db.execute_batch(sql)?;
        }
        let found: i64 = match db.meta("format_version")? {
            Some(v) => v.parse().unwrap_or(i64::MAX),
            None => {
                let v = crate::bookkeeping::FORMAT_VERSION;
                db.set_meta("format_version", &v.to_string())?;
                v
            }
        };
        if found > crate::bookkeeping::FORMAT_VERSION {
            return Err(Error::BookkeepingFormat {
                found,
                supported: crate::bookkeeping::FORMAT_VERSION,
            });
        }
        Ok(())
    }

    fn run(&self, db: &mut dyn Driver, tx: &mut Tx, report: &mut Report) -> Result<()> {
        self.ensure_bookkeeping(db)?;
        tx.clean = true;
        // Decide everything (and refuse unsafe states) before running anything.
        let mut work = Vec::new();
        for store in self.stores()? {
            let row = db.version(store.name)?;
            let applied = db.applied(store.name)?;
            report
                .before
                .push((store.name.to_string(), row.as_ref().map(|r| r.version)));
            let steps = self.store_steps(db.engine(), store, row.as_ref(), &applied, report)?;
            work.push((store, row, steps));
        }
        let total = work.iter().map(|(_, _, steps)| steps.len()).sum();
        let mut index = 0;
        for (store, mut row, steps) in work {
            for step in steps {
                index += 1;
                row = Some(self.run_step(db, tx, row, &step, (index, total), report)?);
            }
            let target = self.target();
            if let Some(mut r) = row {
                if r.version <= target && target == self.plan.target_version {
                    r.plan_digest = Some(store.digest.to_string());
                    r.tree_fingerprint = Some(self.plan.fingerprint.to_string());
                    r.compat_version = r.compat_version.max(self.plan.compat_version);
                    if r.version < target {
                        // Every delta up to the target ran (some versions have none for
                        // this store): the store is at the target.
                        r.version = target;
                    }
                    tx.ensure_open(db)?;
                    tx.savepoint(db, |db| Ok(db.put_version(&r)?))?;
                }
                report.after.push((store.name.to_string(), r.version));
            }
        }
        Ok(())
    }

    /// Where each store stands and what [`apply`](Self::apply) would do. Reads only; a
    /// store the migrator would refuse reports the refusal in [`StoreStatus::problem`].
    pub fn status(&self, db: &mut dyn Driver) -> Result<Status> {
        let exists = db.bookkeeping_exists()?;
        let mut out = Status::default();
        for store in self.stores()? {
            let (row, applied) = if exists {
                (db.version(store.name)?, db.applied(store.name)?)
            } else {
                (None, Vec::new())
            };
            let mut scratch = Report::default();
            let (pending, pending_snapshot, problem) =
                match self.store_steps(db.engine(), store, row.as_ref(), &applied, &mut scratch) {
                    Ok(steps) => {
                        let mut snapshot = None;
                        let mut deltas = Vec::new();
                        for s in steps {
                            match s {
                                Step::Snapshot { version, .. } => snapshot = Some(version),
                                Step::Delta { delta, .. } => {
                                    deltas.push((delta.version, delta.name.to_string()))
                                }
                            }
                        }
                        (deltas, snapshot, scratch.warnings.first().cloned())
                    }
                    Err(e) => (Vec::new(), None, Some(e.to_string())),
                };
            out.stores.push(StoreStatus {
                store: store.name.to_string(),
                version: row.as_ref().map(|r| r.version),
                compat_version: row.as_ref().map(|r| r.compat_version),
                snapshot_version: row.as_ref().and_then(|r| r.snapshot_version),
                upgraded: row.as_ref().is_some_and(|r| r.upgraded),
                applied: applied.len(),
                pending_snapshot,
                pending,
                problem,
            });
        }
        if exists {
            out.pending_background_updates = db.pending_background_updates()?;
        }
        Ok(out)
    }

    /// Records the background updates that `store`'s deltas up to `version` schedule as
    /// completed, unless a row exists (a snapshot may schedule one itself). For a database
    /// created from a snapshot at `version` or adopted by [`Migrator::baseline`]: those deltas
    /// never ran here, and their updates' work is already in the database (a snapshot holds
    /// the built-in ones' indexes; a fresh database has no rows to backfill), but
    /// `has_completed`, start-up gates and later `depends_on` must still know them.
    fn complete_updates_up_to(&self, db: &mut dyn Driver, store: &str, version: u32) -> Result<()> {
        use crate::transaction::Value;
        for u in self.plan.updates_scheduled_up_to(store, version) {
            db.execute(
                "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering, completed_at) \
                 VALUES ($1, '{}', $2, $3, $4) ON CONFLICT (update_name) DO NOTHING",
                &[
                    Value::Text(u.name.to_string()),
                    u.depends_on.map_or(Value::Null, |d| Value::Text(d.to_string())),
                    Value::Integer(u.ordering.unwrap_or(0)),
                    Value::Integer(now_ms()),
                ],
            )?;
        }
        Ok(())
    }

    /// Adopts an existing database whose schema is already at `version`: records every
    /// delta up to `version` as applied without running it. Refuses a store strata already
    /// manages. The background updates those deltas schedule are recorded as completed:
    /// the database is taken to hold their work too.
    pub fn baseline(&self, db: &mut dyn Driver, version: u32) -> Result<Report> {
        if version > self.plan.target_version {
            return Err(Error::BaselineBeyondTarget {
                version,
                target: self.plan.target_version,
            });
        }
        db.lock()?;
        let result = crate::driver::in_transaction(db, |db| {
            self.ensure_bookkeeping(db)?;
            let mut report = Report::default();
            let engine = db.engine();
            for store in self.stores()? {
                if let Some(row) = db.version(store.name)? {
                    return Err(Error::AlreadyManaged {
                        store: store.name.to_string(),
                        version: row.version,
                    });
                }
                for d in store.deltas.iter().filter(|d| d.version <= version) {
                    db.put_applied(&AppliedRow {
                        store: store.name.to_string(),
                        version: d.version,
                        name: d.name.to_string(),
                        engine: engine.name().to_string(),
                        checksum: d.checksum(engine).to_string(),
                        applied_at: now_ms(),
                        duration_ms: 0,
                    })?;
                    report
                        .applied
                        .push((store.name.to_string(), d.version, d.name.to_string()));
                }
                self.complete_updates_up_to(db, store.name, version)?;
                db.put_version(&VersionRow {
                    store: store.name.to_string(),
                    version,
                    upgraded: true,
                    snapshot_version: None,
                    compat_version: self.plan.compat_version.min(version),
                    plan_digest: None,
                    tree_fingerprint: Some(self.plan.fingerprint.to_string()),
                })?;
                report.after.push((store.name.to_string(), version));
            }
            Ok(report)
        });
        let unlocked = db.unlock();
        let report = result?;
        unlocked?;
        Ok(report)
    }

    /// Decides what to run for one store, refusing unsafe states.
    fn store_steps(
        &self,
        engine: crate::Engine,
        store: &'p Store,
        row: Option<&VersionRow>,
        applied: &[AppliedRow],
        report: &mut Report,
    ) -> Result<Vec<Step<'p>>> {
        let target = self.target();
        let mut steps = Vec::new();
        let from = match row {
            None => {
                let snap = store.snapshots.iter().rev().find(|s| s.version <= target);
                if let Some(s) = snap {
                    steps.push(Step::Snapshot {
                        store: store.name,
                        version: s.version,
                        bodies: s.scripts.iter().filter_map(|d| d.body(engine)).collect(),
                    });
                }
                snap.map(|s| s.version)
            }
            Some(r) => {
                if r.version > self.plan.target_version
                    && r.compat_version > self.plan.target_version
                {
                    return Err(Error::DatabaseTooNew {
                        store: store.name.to_string(),
                        db_version: r.version,
                        db_compat: r.compat_version,
                        code_version: self.plan.target_version,
                    });
                }
                self.check_applied(store, r, applied, engine, report)?;
                r.snapshot_version
            }
        };
        for delta in store.deltas.iter() {
            if from.is_some_and(|f| delta.version <= f) || delta.version > target {
                continue;
            }
            if applied
                .iter()
                .any(|a| a.version == delta.version && a.name == delta.name)
            {
                continue;
            }
            if let Some(r) = row
                && delta.version < r.version
            {
                return Err(Error::LateDelta {
                    store: store.name.to_string(),
                    version: delta.version,
                    name: delta.name.to_string(),
                    db_version: r.version,
                });
            }
            steps.push(Step::Delta {
                store: store.name,
                delta,
                body: delta.body(engine),
            });
        }
        Ok(steps)
    }

    /// Recorded deltas: changed checksums and deltas the code does not have.
    fn check_applied(
        &self,
        store: &Store,
        row: &VersionRow,
        applied: &[AppliedRow],
        engine: crate::Engine,
        report: &mut Report,
    ) -> Result<()> {
        for a in applied {
            let delta = store
                .deltas
                .iter()
                .find(|d| d.version == a.version && d.name == a.name);
            match delta {
                Some(d) => {
                    let expected = d.checksum(engine);
                    if a.checksum != expected {
                        let file = d
                            .body(engine)
                            .map_or_else(String::new, |b| b.file.to_string());
                        let err = Error::ChecksumMismatch {
                            store: store.name.to_string(),
                            version: a.version,
                            name: a.name.clone(),
                            file,
                            recorded: a.checksum.as_str().into(),
                            expected: expected.into(),
                        };
                        match self.options.checksum_policy {
                            ChecksumPolicy::Error => return Err(err),
                            ChecksumPolicy::Warn => report.warnings.push(err.to_string()),
                        }
                    }
                }
                None if a.version <= self.plan.target_version => {
                    let hint = match &row.tree_fingerprint {
                        Some(f) if *f != *self.plan.fingerprint => format!(
                            "This binary was built from a different tree (fingerprint {}) than the one that last migrated the database ({f}): if the delta was added since, this binary is stale: rebuild it.",
                            self.plan.fingerprint
                        ),
                        _ => "The delta was removed or renamed in the tree: restore it (applied deltas must stay in the tree).".to_string(),
                    };
                    return Err(Error::UnknownDelta {
                        store: store.name.to_string(),
                        version: a.version,
                        name: a.name.clone(),
                        hint,
                    });
                }
                None => {} // newer than this code: expected when compat allows it
            }
        }
        Ok(())
    }

    fn run_step(
        &self,
        db: &mut dyn Driver,
        tx: &mut Tx,
        row: Option<VersionRow>,
        step: &Step<'p>,
        (index, total): (usize, usize),
        report: &mut Report,
    ) -> Result<VersionRow> {
        let store_name = match step {
            Step::Snapshot { store, .. } | Step::Delta { store, .. } => *store,
        };
        match step {
            Step::Snapshot {
                version, bodies, ..
            } => {
                self.emit(&Event::SnapshotStarted {
                    store: store_name,
                    version: *version,
                    index,
                    total,
                });
                tx.ensure_open(db)?;
                let row = VersionRow {
                    store: store_name.to_string(),
                    version: *version,
                    upgraded: false,
                    snapshot_version: Some(*version),
                    compat_version: self.plan.compat_version.min(*version),
                    plan_digest: None,
                    tree_fingerprint: Some(self.plan.fingerprint.to_string()),
                };
                tx.savepoint(db, |db| {
                    for body in bodies {
                        run_statements(db, store_name, *version, body, "snapshot")?;
                    }
                    self.complete_updates_up_to(db, store_name, *version)?;
                    Ok(db.put_version(&row)?)
                })?;
                report.snapshots.push((store_name.to_string(), *version));
                Ok(row)
            }
            Step::Delta { delta, body, .. } => {
                let mut next = row.unwrap_or(VersionRow {
                    store: store_name.to_string(),
                    version: 0,
                    upgraded: false,
                    snapshot_version: None,
                    compat_version: 0,
                    plan_digest: None,
                    tree_fingerprint: None,
                });
                next.version = next.version.max(delta.version);
                next.upgraded = true;
                next.plan_digest = None;
                next.compat_version = next
                    .compat_version
                    .max(self.plan.compat_version.min(next.version));
                self.emit(&Event::DeltaStarted {
                    store: store_name,
                    version: delta.version,
                    name: delta.name,
                    index,
                    total,
                });
                let started = Instant::now();
                let record = |db: &mut dyn Driver, duration_ms: i64| -> Result<()> {
                    db.put_applied(&AppliedRow {
                        store: store_name.to_string(),
                        version: delta.version,
                        name: delta.name.to_string(),
                        engine: db.engine().name().to_string(),
                        checksum: delta.checksum(db.engine()).to_string(),
                        applied_at: now_ms(),
                        duration_ms,
                    })?;
                    db.put_version(&next)?;
                    Ok(())
                };
                match body {
                    Some(b) if b.no_transaction => {
                        tx.close(db)?;
                        if let Some(index) = &b.concurrent_index {
                            db.drop_invalid_index(index)?;
                        }
                        run_statements(db, store_name, delta.version, b, delta.name)?;
                        tx.ensure_open(db)?;
                        tx.savepoint(db, |db| record(db, started.elapsed().as_millis() as i64))?;
                    }
                    Some(b) if b.foreign_keys_off => {
                        // PRAGMA foreign_keys only takes effect outside a transaction.
                        tx.close(db)?;
                        db.set_foreign_keys(false)?;
                        let outcome = tx.ensure_open(db).map_err(Error::from).and_then(|()| {
                            tx.savepoint(db, |db| {
                                run_statements(db, store_name, delta.version, b, delta.name)?;
                                let violations = db.foreign_key_violations()?;
                                if !violations.is_empty() {
                                    return Err(Error::ForeignKeyViolations {
                                        store: store_name.to_string(),
                                        version: delta.version,
                                        name: delta.name.to_string(),
                                        violations,
                                    });
                                }
                                record(db, started.elapsed().as_millis() as i64)
                            })
                        });
                        // Commit the delta (or the empty transaction its rolled-back savepoint
                        // left) so that foreign keys can be switched back on.
                        let closed = if tx.clean { tx.close(db) } else { Ok(()) };
                        let restored = db.set_foreign_keys(true);
                        outcome?;
                        closed?;
                        restored?;
                    }
                    _ => {
                        let reopened = !tx.open;
                        tx.ensure_open(db)?;
                        // In a transaction opened after a commit, another migrator may have
                        // applied the delta meanwhile: never apply it twice.
                        if reopened && db.is_applied(store_name, delta.version, delta.name)? {
                            return Ok(next);
                        }
                        tx.savepoint(db, |db| {
                            if let Some(b) = body {
                                run_statements(db, store_name, delta.version, b, delta.name)?;
                            }
                            if let Some(code) = &delta.code {
                                run_code(db, store_name, delta, code)?;
                            }
                            record(db, started.elapsed().as_millis() as i64)
                        })?;
                        if self.options.commit_each_delta {
                            tx.close(db)?;
                        }
                    }
                }
                self.emit(&Event::DeltaApplied {
                    store: store_name,
                    version: delta.version,
                    name: delta.name,
                    index,
                    total,
                    duration: started.elapsed(),
                });
                report.applied.push((
                    store_name.to_string(),
                    delta.version,
                    delta.name.to_string(),
                ));
                Ok(next)
            }
        }
    }
}

/// The run's transaction.
struct Tx {
    /// Whether it is open.
    open: bool,
    /// Whether everything done in it so far is whole (no step half done): only then may it
    /// be committed after an error.
    clean: bool,
}

impl Tx {
    /// Runs `f` inside a savepoint: all of it or none of it.
    fn savepoint(
        &mut self,
        db: &mut dyn Driver,
        f: impl FnOnce(&mut dyn Driver) -> Result<()>,
    ) -> Result<()> {
        db.execute_batch("SAVEPOINT strata_step")?;
        self.clean = false;
        match f(db) {
            Ok(()) => {
                db.execute_batch("RELEASE SAVEPOINT strata_step")?;
                self.clean = true;
                Ok(())
            }
            Err(e) => {
                db.execute_batch("ROLLBACK TO SAVEPOINT strata_step")?;
                db.execute_batch("RELEASE SAVEPOINT strata_step")?;
                self.clean = true;
                Err(e)
            }
        }
    }

    fn ensure_open(&mut self, db: &mut dyn Driver) -> Result<(), DriverError> {
        if !self.open {
            db.begin()?;
            self.open = true;
        }
        Ok(())
    }

    fn close(&mut self, db: &mut dyn Driver) -> Result<(), DriverError> {
        if self.open {
            db.commit()?;
            self.open = false;
        }
        Ok(())
    }
}

fn run_code(
    db: &mut dyn Driver,
    store: &str,
    delta: &Delta,
    code: &crate::plan::CodeDelta,
) -> Result<()> {
    let Some(run) = code.run else {
        return Err(Error::CodeDeltaUnavailable {
            store: store.to_string(),
            version: delta.version,
            name: delta.name.to_string(),
            file: code.file.to_string(),
        });
    };
    run(db).map_err(|source| Error::CodeDeltaFailed {
        store: store.to_string(),
        version: delta.version,
        name: delta.name.to_string(),
        file: code.file.to_string(),
        source,
    })
}

fn run_statements(
    db: &mut dyn Driver,
    store: &str,
    version: u32,
    body: &Body,
    name: &str,
) -> Result<()> {
    for (i, sql) in body.statements.iter().enumerate() {
        db.execute_batch(sql).map_err(|source| {
            Error::DeltaFailed(Box::new(DeltaFailure {
                store: store.to_string(),
                version,
                name: name.to_string(),
                file: body.file.to_string(),
                statement: i + 1,
                sql: shorten(sql),
                source,
            }))
        })?;
    }
    Ok(())
}
