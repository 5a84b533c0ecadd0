//! The whole check of a tree: parse every body, lint every statement against the schema
//! model, execute the replayable history on an in-memory SQLite, compare snapshots with
//! what their deltas produce.
//!
//! Per store and engine the history is cut in two:
//! - deltas at or below the oldest snapshot (kept so that old databases can upgrade) lack the
//!   base they were written against: they are parsed and linted statement by statement only;
//! - from the oldest snapshot (or from an empty database when the store has no snapshot) the
//!   history is replayed: the model follows every statement and, on SQLite, every statement is
//!   executed. Each later snapshot is compared with the replay at its version (drift), and
//!   the newest snapshot is loaded on its own and the deltas after it executed on top (the
//!   path a fresh database takes).
//!
//! Within a version, `common`'s deltas run first, then the store's, each in byte order of
//! file name; a snapshot loads `common`'s files first.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sqlparser::ast;

use crate::diagnostic::{Diagnostic, Severity};
use crate::directive::Directive;
use crate::engine::Engine;
use crate::error::Result;
use crate::history;
use crate::lints::{self, StatementContext, registry as lint};
use crate::model::{Model, object_name};
use crate::parse::{ParsedFile, parse_file};
use crate::position::Position;
use crate::tree::{FileId, Script, Store, Tree};
use crate::validate::{self, SqliteValidator};
use strata_runtime::background::Builtin;

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Engines to check (default: the manifest's).
    pub engines: Option<Vec<Engine>>,
    /// Execute the history on an in-memory SQLite (default `true`).
    pub execute: bool,
    /// Keep the SQLite schema each store's replay has at this version (with `execute`), for
    /// `strata dump` ([`Analysis::captured`]).
    pub capture: Option<u32>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            engines: None,
            execute: true,
            capture: None,
        }
    }
}

/// A background update a delta schedules with `INSERT INTO strata_background_updates`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledUpdate {
    /// Store of the scheduling delta.
    pub store: String,
    /// Version of the scheduling delta.
    pub version: u32,
    /// Name of the scheduling delta.
    pub delta: String,
    /// `update_name`.
    pub name: String,
    /// `depends_on`.
    pub depends_on: Option<String>,
    /// `ordering`.
    pub ordering: Option<i64>,
}

/// The result of checking a tree.
#[derive(Debug)]
pub struct Analysis {
    /// Every diagnostic (tree, parse, lints, execution, drift), deduplicated and sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Parsed bodies, by file and engine.
    pub parsed: HashMap<(FileId, Engine), ParsedFile>,
    /// Background updates the tree schedules, in history order.
    pub scheduled_updates: Vec<ScheduledUpdate>,
    /// The schema each store has at the end of its history, per engine (`common`'s tables
    /// included, owned by `common`).
    pub final_models: BTreeMap<(String, Engine), Model>,
    /// With [`CheckOptions::capture`]: per store, the SQLite replay at that version.
    pub captured: BTreeMap<String, Result<validate::Captured, String>>,
}

impl Analysis {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Number of (errors, warnings).
    pub fn counts(&self) -> (usize, usize) {
        let e = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        (e, self.diagnostics.len() - e)
    }
}

/// Checks `tree`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir_all(dir.path().join("delta/1"))?;
/// std::fs::write(dir.path().join("delta/1/01_t.sql"), "CREATE TABLE t (a INT);\nTRUNCATE t;")?;
/// let tree = strata_schema::tree::Tree::load(dir.path())?;
/// let analysis = strata_schema::analysis::analyse(&tree, &Default::default())?;
/// assert!(analysis.has_errors());
/// assert_eq!(analysis.diagnostics[0].lint.name, "sqlite-truncate");
/// # Ok(()) }
/// ```
pub fn analyse(tree: &Tree, options: &CheckOptions) -> Result<Analysis> {
    let engines: Vec<Engine> = options
        .engines
        .clone()
        .unwrap_or_else(|| tree.manifest.engines.clone())
        .into_iter()
        .filter(|e| tree.manifest.targets(*e))
        .collect();
    let mut a = Analyser {
        tree,
        engines,
        execute: options.execute,
        parsed: HashMap::new(),
        diagnostics: tree.diagnostics.clone(),
        scheduled: Vec::new(),
        scheduled_at: Vec::new(),
        scheduled_seen: HashSet::new(),
        store_tables: BTreeMap::new(),
        final_models: BTreeMap::new(),
        capture: options.capture,
        captured: BTreeMap::new(),
    };
    a.parse_all();
    a.collect_store_tables();
    let stores = history::stores(tree);
    for engine in a.engines.clone() {
        for store in &stores {
            a.walk(store, engine)?;
        }
    }
    a.check_scheduled_dependencies();
    let diagnostics = finish(a.diagnostics);
    Ok(Analysis {
        diagnostics,
        parsed: a.parsed,
        scheduled_updates: a.scheduled,
        final_models: a.final_models,
        captured: a.captured,
    })
}

/// Deduplicates (the same finding on both engines becomes one without an engine; `common`
/// scripts are walked once per store) and sorts by file, position and code.
fn finish(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut by_key: BTreeMap<(String, usize, usize, &'static str, String), Diagnostic> =
        BTreeMap::new();
    for d in diags {
        let key = d.sort_key();
        match by_key.get_mut(&key) {
            Some(existing) => {
                if existing.engine != d.engine {
                    existing.engine = None;
                }
                if d.severity > existing.severity {
                    existing.severity = d.severity;
                }
            }
            None => {
                by_key.insert(key, d);
            }
        }
    }
    by_key.into_values().collect()
}

struct Analyser<'t> {
    tree: &'t Tree,
    engines: Vec<Engine>,
    execute: bool,
    parsed: HashMap<(FileId, Engine), ParsedFile>,
    diagnostics: Vec<Diagnostic>,
    scheduled: Vec<ScheduledUpdate>,
    /// Where each of `scheduled` is scheduled: file, statement span and position.
    scheduled_at: Vec<(String, std::ops::Range<usize>, Position)>,
    scheduled_seen: HashSet<(String, u32, String)>,
    store_tables: BTreeMap<String, BTreeSet<String>>,
    final_models: BTreeMap<(String, Engine), Model>,
    capture: Option<u32>,
    captured: BTreeMap<String, Result<validate::Captured, String>>,
}

/// One script in a store's history, in order.
struct Step<'t> {
    script: &'t Script,
    in_snapshot: bool,
}

impl<'t> Analyser<'t> {
    fn all_stores(&self) -> impl Iterator<Item = &'t Store> {
        self.tree.common.iter().chain(self.tree.stores.iter())
    }

    fn all_scripts(&self) -> impl Iterator<Item = &'t Script> {
        self.all_stores().flat_map(|s| {
            s.deltas
                .iter()
                .chain(s.snapshots.iter().flat_map(|sn| sn.scripts.iter()))
        })
    }

    /// Splits and parses every body for every engine it runs on; classifies statements
    /// sqlparser cannot read.
    fn parse_all(&mut self) {
        let scripts: Vec<&Script> = self.all_scripts().collect();
        for script in scripts {
            for &engine in &self.engines {
                let Some(file) = script.checked_file(engine) else {
                    continue;
                };
                if self.parsed.contains_key(&(file, engine)) {
                    continue;
                }
                let source = &self.tree.files[file];
                let mut pf = parse_file(source, engine);
                self.diagnostics.append(&mut pf.diagnostics);
                if pf.has(&Directive::NoTransaction) && pf.statements.len() != 1 {
                    self.diagnostics.push(
                        Diagnostic::new(
                            &lint::NO_TRANSACTION_SINGLE,
                            format!(
                                "`no-transaction` delta `{}` holds {} statements",
                                script.name,
                                pf.statements.len()
                            ),
                        )
                        .at(&source.path, 0..0, Position { line: 1, column: 1 })
                        .engine(engine),
                    );
                }
                for s in &mut pf.statements {
                    let Some(mut d) = s.parse_error.clone() else {
                        continue;
                    };
                    if engine == Engine::Sqlite && d.lint.code == lint::NOT_ANALYSED.code {
                        // SQLite itself decides whether the syntax is valid.
                        if let Err(e) = SqliteValidator::syntax_check(s.statement.sql(&source.text))
                        {
                            d = Diagnostic {
                                lint: &lint::SYNTAX_ERROR,
                                severity: Severity::Error,
                                message: format!("SQLite rejects this statement: {}", e.message),
                                help: lint::SYNTAX_ERROR.help.map(str::to_string),
                                ..d
                            };
                        } else if self.execute {
                            d.message.push_str(
                                " (SQLite accepts its syntax; it is executed but not linted)",
                            );
                        }
                    }
                    if !s.allows(d.lint) {
                        self.diagnostics.push(d.clone());
                    }
                    s.parse_error = Some(d);
                }
                self.parsed.insert((file, engine), pf);
            }
        }
    }

    /// Which tables each store creates anywhere in the tree.
    fn collect_store_tables(&mut self) {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for store in self.all_stores() {
            let set = map.entry(store.name.clone()).or_default();
            let scripts = store
                .deltas
                .iter()
                .chain(store.snapshots.iter().flat_map(|s| s.scripts.iter()));
            for script in scripts {
                for &engine in &self.engines {
                    let Some(file) = script.checked_file(engine) else {
                        continue;
                    };
                    let Some(pf) = self.parsed.get(&(file, engine)) else {
                        continue;
                    };
                    for s in &pf.statements {
                        match &s.ast {
                            Some(ast::Statement::CreateTable(ct)) => {
                                set.insert(object_name(&ct.name));
                            }
                            Some(ast::Statement::AlterTable(at)) => {
                                for op in &at.operations {
                                    if let ast::AlterTableOperation::RenameTable { table_name } = op
                                    {
                                        let (ast::RenameTableNameKind::As(n)
                                        | ast::RenameTableNameKind::To(n)) = table_name;
                                        set.insert(object_name(n));
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        self.store_tables = map;
    }

    fn steps(scripts: Vec<&'t Script>, in_snapshot: bool) -> Vec<Step<'t>> {
        scripts
            .into_iter()
            .map(|script| Step {
                script,
                in_snapshot,
            })
            .collect()
    }

    fn snapshot_steps(&self, store: &'t Store, version: u32) -> Vec<Step<'t>> {
        Self::steps(history::snapshot_scripts(self.tree, store, version), true)
    }

    /// Tables the snapshot at `version` creates.
    fn snapshot_tables(&self, store: &'t Store, version: u32, engine: Engine) -> BTreeSet<String> {
        self.snapshot_steps(store, version)
            .iter()
            .filter_map(|s| s.script.body(engine))
            .filter_map(|f| self.parsed.get(&(f, engine)))
            .flat_map(|pf| pf.statements.iter())
            .filter_map(|s| match &s.ast {
                Some(ast::Statement::CreateTable(ct)) => Some(object_name(&ct.name)),
                _ => None,
            })
            .collect()
    }

    fn walk(&mut self, store: &'t Store, engine: Engine) -> Result<()> {
        let h = history::history(self.tree, store);
        let (old, start, replay) = (
            Self::steps(h.old, false),
            h.start,
            Self::steps(h.replay, false),
        );
        let execute = self.execute && engine == Engine::Sqlite;
        let new_db = || -> Result<Option<SqliteValidator>> {
            Ok(if execute {
                Some(SqliteValidator::new()?)
            } else {
                None
            })
        };
        let mut db = new_db()?;
        let mut model = Model::with_bookkeeping();
        let mut replay_start = None;
        // `strata dump`: the replay's schema when it reaches the version asked for.
        let capture = self.capture.filter(|_| engine == Engine::Sqlite && execute);
        let mut captured: Option<Result<validate::Captured, String>> = None;
        let take = |db: &Option<SqliteValidator>, model: &Model| -> Result<validate::Captured> {
            db.as_ref().expect("capture implies execute").capture(model)
        };
        if let Some(v) = start {
            // 1. Deltas below the oldest snapshot. Try them from an empty database first: when
            //    they run cleanly and create every table the snapshot has, the history starts
            //    from scratch, and the oldest snapshot is checked for drift like any other.
            //    Otherwise they were written against a base the tree no longer has: lint them
            //    statement by statement only.
            let mark = self.diagnostics.len();
            for step in &old {
                if let Some(n) = capture
                    && captured.is_none()
                    && step.script.version > n
                {
                    captured = Some(Ok(take(&db, &model)?));
                }
                self.run_step(step, engine, Some(&mut model), db.as_ref())?;
            }
            if let Some(n) = capture
                && captured.is_none()
                && n <= v
            {
                captured = Some(Ok(take(&db, &model)?));
            }
            let trial = self.diagnostics.split_off(mark);
            let snapshot_tables = self.snapshot_tables(store, v, engine);
            let replayable = !old.is_empty()
                && !trial.iter().any(|d| REPLAY_FAILURES.contains(&d.lint.code))
                && snapshot_tables.iter().all(|t| model.tables.contains_key(t));
            if replayable {
                self.diagnostics.extend(trial);
                self.check_snapshot(store, engine, v, db.as_ref())?;
            } else {
                for step in &old {
                    self.run_step(step, engine, None, None)?;
                }
                // 2. The replay starts from the oldest snapshot.
                db = new_db()?;
                model = Model::with_bookkeeping();
                for step in self.snapshot_steps(store, v) {
                    self.run_step(&step, engine, Some(&mut model), db.as_ref())?;
                }
                replay_start = Some(v);
                captured = match capture {
                    Some(n) if n < v => Some(Err(format!(
                        "the history of `{}` before snapshot {v} cannot be replayed from an empty database, so version {n} cannot be rebuilt; dump version {v} or later",
                        store.name
                    ))),
                    Some(n) if n == v => Some(Ok(take(&db, &model)?)),
                    _ => None,
                };
            }
        }
        let later = h.later_snapshots;
        let mut pending_snapshots = later.iter().copied().peekable();
        for step in &replay {
            while let Some(&snap) = pending_snapshots.peek() {
                if step.script.version <= snap {
                    break;
                }
                self.check_snapshot(store, engine, snap, db.as_ref())?;
                pending_snapshots.next();
            }
            if let Some(n) = capture
                && captured.is_none()
                && step.script.version > n
            {
                captured = Some(Ok(take(&db, &model)?));
            }
            self.run_step(step, engine, Some(&mut model), db.as_ref())?;
        }
        for snap in pending_snapshots {
            self.check_snapshot(store, engine, snap, db.as_ref())?;
        }
        if let Some(n) = capture {
            let newest = self.tree.target_version().unwrap_or(0);
            let result = match captured {
                Some(c) => c,
                None if n <= newest => Ok(take(&db, &model)?),
                None => Err(format!(
                    "version {n} is beyond the tree's newest version, {newest}"
                )),
            };
            self.captured.insert(store.name.clone(), result);
        }
        self.final_models
            .insert((store.name.clone(), engine), model);
        // 3. A fresh database: the newest snapshot, then the deltas after it.
        let newest = store.snapshots.last().map(|s| s.version);
        if execute
            && let Some(newest) = newest
            && replay_start != Some(newest)
        {
            let fresh = SqliteValidator::new()?;
            let mut fresh_model = Model::with_bookkeeping();
            for step in self.snapshot_steps(store, newest) {
                self.execute_step(&step, engine, &fresh, &mut fresh_model)?;
            }
            for step in replay.iter().filter(|s| s.script.version > newest) {
                self.execute_step(step, engine, &fresh, &mut fresh_model)?;
            }
        }
        Ok(())
    }

    /// Lints the snapshot `version`'s files on a model of their own and, on SQLite, compares
    /// the database they build with the replay.
    fn check_snapshot(
        &mut self,
        store: &'t Store,
        engine: Engine,
        version: u32,
        replay: Option<&SqliteValidator>,
    ) -> Result<()> {
        let fresh = match replay {
            Some(_) => Some(SqliteValidator::new()?),
            None => None,
        };
        let mut model = Model::with_bookkeeping();
        for step in self.snapshot_steps(store, version) {
            self.run_step(&step, engine, Some(&mut model), fresh.as_ref())?;
        }
        if let (Some(replay), Some(fresh)) = (replay, fresh) {
            let lines = validate::diff(
                &fresh.dump()?,
                &replay.dump()?,
                "the snapshot",
                "the deltas",
            );
            if !lines.is_empty() {
                let file = self
                    .snapshot_steps(store, version)
                    .iter()
                    .rev()
                    .find_map(|s| s.script.body(engine))
                    .map(|f| self.tree.files[f].path.clone())
                    .unwrap_or_else(|| format!("{}/full_schemas/{version}", store.name));
                let mut d = Diagnostic::new(
                    &lint::SNAPSHOT_DRIFT,
                    format!(
                        "snapshot `{}` differs from what the deltas up to version {version} produce ({} difference{})",
                        file.rsplit_once('/').map_or(file.as_str(), |(dir, _)| dir),
                        lines.len(),
                        if lines.len() == 1 { "" } else { "s" }
                    ),
                )
                .at(&file, 0..0, Position { line: 1, column: 1 })
                .engine(engine);
                for l in lines.into_iter().take(20) {
                    d = d.note(l);
                }
                self.diagnostics.push(d);
            }
        }
        Ok(())
    }

    /// Lints every statement of a step (against `model` when given), executes it on `db`
    /// when given, and moves the model forward.
    fn run_step(
        &mut self,
        step: &Step<'t>,
        engine: Engine,
        mut model: Option<&mut Model>,
        db: Option<&SqliteValidator>,
    ) -> Result<()> {
        let script = step.script;
        // A code delta without a `.schema.sql` is taken to change no schema.
        let Some(file) = script.checked_file(engine) else {
            return Ok(());
        };
        let tree = self.tree;
        let source = &tree.files[file];
        let pf = self
            .parsed
            .remove(&(file, engine))
            .expect("parsed in parse_all");
        let no_transaction = pf.has(&Directive::NoTransaction);
        let fk_off = pf.has(&Directive::ForeignKeysOff);
        let version = (!step.in_snapshot).then_some(script.version);
        if let Some(db) = db
            && fk_off
        {
            db.set_foreign_keys(false)?;
        }
        for s in &pf.statements {
            let ctx = StatementContext {
                engine,
                file: source,
                stmt: s,
                store: &script.store,
                version,
                no_transaction,
                foreign_keys_off: fk_off,
                manifest: &tree.manifest,
                compat_version: tree.compat_version(),
                model: model.as_deref(),
                store_tables: &self.store_tables,
            };
            let found = lints::check_statement(&ctx);
            // A statement a lint or the parser already rejects fails to execute for the same
            // reason: report the explanation, not SQLite's echo of it.
            let explained = found.iter().any(|d| d.severity == Severity::Error)
                || s.parse_error
                    .as_ref()
                    .is_some_and(|d| d.severity == Severity::Error);
            self.diagnostics.extend(found);
            let builtins = match &s.ast {
                Some(ast) => {
                    let span = s.statement.sql_span.clone();
                    let at = (
                        source.path.clone(),
                        span.clone(),
                        source.index.position(span.start),
                    );
                    self.record_schedule(script, ast, at)
                }
                None => Vec::new(),
            };
            if let Some(db) = db
                && let Err(e) = db.execute(s.statement.sql(&source.text))
                && !explained
            {
                self.diagnostics
                    .push(exec_diagnostic(source, s, engine, &e));
            }
            // A built-in background update's effect is part of the history: a snapshot
            // taken after it includes, say, its index.
            for (name, builtin) in builtins {
                match builtin {
                    Ok(Builtin::Index(index)) => {
                        let sql = index.create_sql();
                        if let Some(db) = db
                            && let Err(e) = db.execute(&sql)
                        {
                            let mut d = exec_diagnostic(source, s, engine, &e);
                            d.message = format!(
                                "built-in background index `{name}` cannot be built: {}",
                                e.message
                            );
                            self.diagnostics.push(d);
                        }
                        if let (Some(m), Ok(stmts)) = (
                            model.as_deref_mut(),
                            sqlparser::parser::Parser::parse_sql(
                                &sqlparser::dialect::SQLiteDialect {},
                                &sql,
                            ),
                        ) {
                            for st in &stmts {
                                m.apply(st, &script.store, version);
                            }
                        }
                    }
                    Ok(Builtin::Noop) => {}
                    Err(why) => {
                        let at = s.statement.sql_span.start;
                        self.diagnostics.push(
                            Diagnostic::new(
                                &lint::BAD_BUILTIN_UPDATE,
                                format!("background update `{name}`: {why}"),
                            )
                            .at(&source.path, at..at, s.statement.start)
                            .engine(engine),
                        );
                    }
                }
            }
            if let Some(m) = model.as_deref_mut() {
                match &s.ast {
                    Some(ast) => m.apply(ast, &script.store, version),
                    None => m.uncertain = true,
                }
            }
        }
        if let Some(db) = db
            && fk_off
        {
            let allowed = pf
                .file_directives
                .iter()
                .any(|d| matches!(d, Directive::Allow(l) if l.iter().any(|l| l == lint::FOREIGN_KEY_VIOLATION.code || l == lint::FOREIGN_KEY_VIOLATION.name)));
            for v in db
                .foreign_key_violations()?
                .into_iter()
                .filter(|_| !allowed)
            {
                self.diagnostics.push(
                    Diagnostic::new(
                        &lint::FOREIGN_KEY_VIOLATION,
                        format!("after `{}`: {v}", script.name),
                    )
                    .at(&source.path, 0..0, Position { line: 1, column: 1 })
                    .engine(engine),
                );
            }
            db.set_foreign_keys(true)?;
        }
        self.parsed.insert((file, engine), pf);
        Ok(())
    }

    /// Executes a step without linting (the fresh-database path).
    fn execute_step(
        &mut self,
        step: &Step<'t>,
        engine: Engine,
        db: &SqliteValidator,
        model: &mut Model,
    ) -> Result<()> {
        let Some(file) = step.script.checked_file(engine) else {
            return Ok(());
        };
        let source = &self.tree.files[file];
        let pf = &self.parsed[&(file, engine)];
        let fk_off = pf.has(&Directive::ForeignKeysOff);
        if fk_off {
            db.set_foreign_keys(false)?;
        }
        for s in &pf.statements {
            if let Err(e) = db.execute(s.statement.sql(&source.text)) {
                self.diagnostics
                    .push(exec_diagnostic(source, s, engine, &e));
            }
            if let Some(ast) = &s.ast {
                model.apply(ast, &step.script.store, Some(step.script.version));
            }
        }
        if fk_off {
            db.set_foreign_keys(true)?;
        }
        Ok(())
    }

    /// Recognises `INSERT INTO strata_background_updates (...) VALUES (...)`.
    /// Records the updates an `INSERT INTO strata_background_updates` schedules; returns the
    /// built-in ones (`"builtin"` in `progress_json`) by name, whose effect the replay applies.
    fn record_schedule(
        &mut self,
        script: &Script,
        stmt: &ast::Statement,
        at: (String, std::ops::Range<usize>, Position),
    ) -> Vec<(String, Result<Builtin, String>)> {
        let mut builtins = Vec::new();
        let ast::Statement::Insert(ins) = stmt else {
            return builtins;
        };
        let ast::TableObject::TableName(n) = &ins.table else {
            return builtins;
        };
        if object_name(n) != "strata_background_updates" {
            return builtins;
        }
        let Some(source) = &ins.source else {
            return builtins;
        };
        let ast::SetExpr::Values(values) = source.body.as_ref() else {
            return builtins;
        };
        let cols: Vec<String> = ins
            .columns
            .iter()
            .map(|c| c.to_string().to_lowercase())
            .collect();
        for row in &values.rows {
            let get = |name: &str| {
                cols.iter()
                    .position(|c| c == name)
                    .and_then(|i| row.get(i))
                    .and_then(|e| match e {
                        ast::Expr::Value(v) => Some(v.value.clone()),
                        _ => None,
                    })
            };
            let text = |v: Option<ast::Value>| match v {
                Some(ast::Value::SingleQuotedString(s)) => Some(s),
                _ => None,
            };
            let Some(name) = text(get("update_name")) else {
                continue;
            };
            if let Some(progress) = text(get("progress_json")) {
                match serde_json::from_str::<serde_json::Value>(&progress) {
                    Ok(json) => {
                        if let Some(b) = Builtin::from_json(&json) {
                            builtins.push((name.clone(), b));
                        }
                    }
                    Err(e) => builtins
                        .push((name.clone(), Err(format!("progress_json is not JSON: {e}")))),
                }
            }
            if !self
                .scheduled_seen
                .insert((script.store.clone(), script.version, name.clone()))
            {
                continue;
            }
            self.scheduled_at.push(at.clone());
            self.scheduled.push(ScheduledUpdate {
                store: script.store.clone(),
                version: script.version,
                delta: script.name.clone(),
                depends_on: text(get("depends_on")),
                ordering: match get("ordering") {
                    Some(ast::Value::Number(n, _)) => n.parse().ok(),
                    _ => None,
                },
                name,
            });
        }
        builtins
    }

    /// A `depends_on` naming an update the tree never schedules, or one scheduled in
    /// another store (whose database may be another), or a cycle, is an error at the
    /// scheduling statement.
    fn check_scheduled_dependencies(&mut self) {
        let deps: BTreeMap<&str, Option<&str>> = self
            .scheduled
            .iter()
            .map(|s| (s.name.as_str(), s.depends_on.as_deref()))
            .collect();
        let mut found: Vec<(usize, &'static lint::LintInfo, String)> = Vec::new();
        let mut cycles: Vec<Vec<String>> = Vec::new();
        for (i, s) in self.scheduled.iter().enumerate() {
            // Follow the chain; a cycle brings us back to where we started.
            let mut seen = vec![s.name.clone()];
            let mut at = s.depends_on.as_deref();
            while let Some(next) = at {
                if next == s.name {
                    let mut members = seen.clone();
                    members.sort();
                    if !cycles.contains(&members) {
                        let list: Vec<String> = members.iter().map(|m| format!("`{m}`")).collect();
                        found.push((
                            i,
                            &lint::BACKGROUND_CYCLE,
                            format!(
                                "background updates {} depend on each other in a cycle",
                                list.join(", ")
                            ),
                        ));
                        cycles.push(members);
                    }
                    break;
                }
                if seen.iter().any(|x| x == next) {
                    break; // a cycle further along, reported from its own members
                }
                seen.push(next.to_string());
                at = deps.get(next).copied().flatten();
            }
            let Some(dep) = &s.depends_on else { continue };
            let stores: Vec<&str> = self
                .scheduled
                .iter()
                .filter(|x| &x.name == dep)
                .map(|x| x.store.as_str())
                .collect();
            if stores.is_empty() {
                found.push((
                    i,
                    &lint::UNKNOWN_DEPENDENCY,
                    format!(
                        "background update `{}` depends on `{dep}`, which no delta of the tree schedules",
                        s.name
                    ),
                ));
            } else if !stores.iter().any(|st| *st == s.store || *st == "common") {
                found.push((
                    i,
                    &lint::UNKNOWN_DEPENDENCY,
                    format!(
                        "background update `{}` (store `{}`) depends on `{dep}`, which store `{}` schedules: each database runs its own stores' updates, so where the stores are separate databases `{dep}` never appears in this one; schedule both in one store (or in `common`)",
                        s.name, s.store, stores[0]
                    ),
                ));
            }
        }
        for (i, info, message) in found {
            let (file, span, position) = self.scheduled_at[i].clone();
            self.diagnostics
                .push(Diagnostic::new(info, message).at(&file, span, position));
        }
    }
}

/// Findings that show a delta below the oldest snapshot was written against a base the tree
/// does not contain (so the history cannot be replayed from an empty database).
const REPLAY_FAILURES: [&str; 5] = ["G304", "G305", "G306", "X001", "X002"];

fn exec_diagnostic(
    source: &crate::tree::SourceFile,
    s: &crate::parse::ParsedStatement,
    engine: Engine,
    e: &validate::ExecError,
) -> Diagnostic {
    let start = s.statement.sql_span.start;
    let (offset, position) = match e.offset {
        Some(off) if start + off <= source.text.len() => {
            (start + off, source.index.position(start + off))
        }
        _ => (start, s.statement.start),
    };
    Diagnostic::new(
        &lint::EXECUTION_ERROR,
        format!("SQLite fails to run this statement: {}", e.message),
    )
    .at(&source.path, offset..offset, position)
    .engine(engine)
}
