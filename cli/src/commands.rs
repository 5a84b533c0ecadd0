//! `migrate`, `status`, `plan`, `baseline`, `bg` and `new`: the runtime over a plan, loaded
//! from a tree on disk (generic binary) or compiled in (embedded form).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use strata_runtime::background::{BatchReport, Handlers, Runner};
use strata_runtime::script::sql_script;
use strata_runtime::{Engine, Event, Migrations, Migrator, Options, Step};
use strata_schema::CheckOptions;

use crate::Context;
use crate::db::{Connection, Targets, Url, redact};

/// Loads and checks the tree; on errors prints them and fails (exit 1).
pub fn load(dir: &Path) -> Result<Migrations, (ExitCode, String)> {
    let (report, plan) = strata_schema::load_plan(dir, &CheckOptions::default())
        .map_err(|e| (ExitCode::from(2), e.to_string()))?;
    let (errors, warnings) = report.analysis.counts();
    if warnings > 0 || errors > 0 {
        eprint!("{}", report.render());
    }
    plan.ok_or_else(|| {
        (
            ExitCode::from(1),
            format!("the tree has {errors} error(s): nothing was applied (run `strata check` for details)"),
        )
    })
}

fn each_database<T>(
    plan: &Migrations,
    targets: &Targets,
    mut f: impl FnMut(&str, &mut Connection, Vec<String>) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for (url, stores) in targets.group(plan)? {
        let mut conn = Connection::open(&url)?;
        out.push(f(&url, &mut conn, stores)?);
    }
    Ok(out)
}

pub fn migrate(
    plan: &Migrations,
    targets: &Targets,
    to: Option<u32>,
) -> Result<ExitCode, (ExitCode, String)> {
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::hidden();
    if terminal {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .expect("static template"),
        );
    }
    let observer = |e: &Event<'_>| {
        let (index, total, label, line) = match *e {
            Event::SnapshotStarted {
                store,
                version,
                index,
                total,
            } => (
                index,
                total,
                format!("{store}: snapshot {version}"),
                format!("{store}: loading snapshot {version}"),
            ),
            Event::DeltaStarted {
                store,
                version,
                name,
                index,
                total,
            } => (
                index,
                total,
                format!("{store}/{version}/{name}"),
                format!("{store}: applying {version}/{name}"),
            ),
            Event::DeltaApplied { index, .. } => return bar.set_position(index as u64),
            _ => return,
        };
        if terminal {
            bar.set_length(total as u64);
            bar.set_position(index as u64 - 1);
            bar.set_message(label);
        } else {
            eprintln!("[{index}/{total}] {line}");
        }
    };
    let reports = each_database(plan, targets, |url, conn, stores| {
        let options = Options {
            to_version: to,
            stores: Some(stores),
            ..Options::default()
        };
        let migrator = Migrator::with_options(plan, options).on_event(&observer);
        conn.with_driver(|db| migrator.apply(db))
            .map_err(|e| e.to_string())?
            .map(|r| (redact(url), r))
            .map_err(|e| e.to_string())
    })
    .map_err(|e| {
        bar.finish_and_clear();
        (ExitCode::from(1), e)
    })?;
    bar.finish_and_clear();
    let applied: usize = reports.iter().map(|(_, r)| r.applied.len()).sum();
    for (url, r) in &reports {
        if r.up_to_date {
            println!("{url}: up to date");
            continue;
        }
        for w in &r.warnings {
            eprintln!("warning: {w}");
        }
        let changes = r.version_changes();
        println!("{url}: {}", changes.join(", "));
    }
    println!("applied {applied} delta(s) in {:.2?}", started.elapsed());
    Ok(ExitCode::SUCCESS)
}

pub fn status(
    plan: &Migrations,
    targets: &Targets,
    json: bool,
) -> Result<ExitCode, (ExitCode, String)> {
    let statuses = each_database(plan, targets, |url, conn, stores| {
        let options = Options {
            stores: Some(stores),
            ..Options::default()
        };
        conn.with_driver(|db| Migrator::with_options(plan, options).status(db))
            .map_err(|e| e.to_string())?
            .map(|s| (redact(url), s))
            .map_err(|e| e.to_string())
    })
    .map_err(|e| (ExitCode::from(2), e))?;
    let up_to_date = statuses.iter().all(|(_, s)| s.is_up_to_date())
        && statuses
            .iter()
            .all(|(_, s)| s.pending_background_updates.is_empty());
    if json {
        let value: Vec<_> = statuses
            .iter()
            .map(|(url, s)| {
                serde_json::json!({
                    "database": url,
                    "stores": s.stores.iter().map(|st| serde_json::json!({
                        "store": st.store,
                        "version": st.version,
                        "compat_version": st.compat_version,
                        "snapshot_version": st.snapshot_version,
                        "upgraded": st.upgraded,
                        "applied": st.applied,
                        "pending_snapshot": st.pending_snapshot,
                        "pending": st.pending.iter().map(|(v, n)| format!("{v}/{n}")).collect::<Vec<_>>(),
                        "problem": st.problem,
                    })).collect::<Vec<_>>(),
                    "pending_background_updates": s.pending_background_updates,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&value).expect("plain JSON")
        );
    } else {
        println!(
            "target version {}, compat version {}",
            plan.target_version, plan.compat_version
        );
        for (url, s) in &statuses {
            println!("{url}");
            for st in &s.stores {
                let version = st.version.map_or("new".to_string(), |v| v.to_string());
                let compat = st.compat_version.map_or("-".to_string(), |v| v.to_string());
                let snapshot = st
                    .snapshot_version
                    .map_or("-".to_string(), |v| v.to_string());
                println!(
                    "  {:<10} version {version:<5} compat {compat:<5} snapshot {snapshot:<5} applied {:<4} pending {}{}",
                    st.store,
                    st.applied,
                    st.pending.len(),
                    st.pending_snapshot
                        .map(|v| format!(" (+ snapshot {v})"))
                        .unwrap_or_default()
                );
                for (v, n) in &st.pending {
                    println!("    pending {v}/{n}");
                }
                if let Some(p) = &st.problem {
                    println!("    problem: {p}");
                }
            }
            if !s.pending_background_updates.is_empty() {
                println!(
                    "  background updates pending: {}",
                    s.pending_background_updates.join(", ")
                );
            }
        }
    }
    Ok(if up_to_date {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

pub fn plan(
    plan: &Migrations,
    targets: &Targets,
    sql: bool,
    engine: Option<Engine>,
) -> Result<ExitCode, (ExitCode, String)> {
    let show = |title: &str, steps: &[Step<'_>], engine: Engine| -> Result<(), String> {
        if sql {
            // SQL cannot run a code delta: the script stops before the first one of each
            // store (other stores go on).
            let mut stopped: Vec<(String, String)> = Vec::new();
            let runnable: Vec<Step<'_>> = steps
                .iter()
                .filter(|s| {
                    let (store, code) = match s {
                        Step::Snapshot { store, .. } => (store, None),
                        Step::Delta { store, delta, .. } => (store, delta.code.as_ref()),
                    };
                    if stopped.iter().any(|(st, _)| st == store) {
                        return false;
                    }
                    if let (Some(code), Step::Delta { delta, .. }) = (code, s) {
                        stopped.push((
                            store.to_string(),
                            format!("{store}/{}/{} (`{}`)", delta.version, delta.name, code.file),
                        ));
                        return false;
                    }
                    true
                })
                .cloned()
                .collect();
            print!(
                "{}",
                sql_script(plan, &runnable, engine).map_err(|e| e.to_string())?
            );
            if !stopped.is_empty() {
                return Err(format!(
                    "the script stops before the code delta {}: SQL cannot run Rust code; apply it with the application's embedded migrations (`migrate` of the binary built with include_migrations!), then plan the rest",
                    stopped
                        .iter()
                        .map(|(_, d)| d.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            return Ok(());
        }
        println!("{title}: {} step(s)", steps.len());
        for step in steps {
            match step {
                Step::Snapshot {
                    store,
                    version,
                    bodies,
                } => {
                    println!("\n-- {store}: load snapshot {version}");
                    for sql in bodies.iter().flat_map(|b| b.statements.iter()) {
                        println!("{sql};");
                    }
                }
                Step::Delta { store, delta, body } => {
                    let file = body.map_or("nothing to run on this engine", |b| b.file);
                    println!(
                        "\n-- {store}: delta {}/{} ({file})",
                        delta.version, delta.name
                    );
                    for sql in body.iter().flat_map(|b| b.statements.iter()) {
                        println!("{sql};");
                    }
                    if let Some(code) = &delta.code {
                        println!(
                            "-- code delta {} (Rust, run by the application's embedded migrations)",
                            code.file
                        );
                    }
                }
            }
        }
        Ok(())
    };
    if targets.default.is_none() && targets.per_store.is_empty() {
        // Offline: what a fresh database of the engine would get.
        let engine = engine.unwrap_or(plan.engines[0]);
        let steps = Migrator::new(plan)
            .fresh_steps(engine)
            .map_err(|e| (ExitCode::from(1), e.to_string()))?;
        show(&format!("a fresh {engine} database"), &steps, engine)
            .map_err(|e| (ExitCode::from(1), e))?;
        return Ok(ExitCode::SUCCESS);
    }
    each_database(plan, targets, |url, conn, stores| {
        let options = Options {
            stores: Some(stores),
            ..Options::default()
        };
        let engine = match Url::parse(url)? {
            Url::Sqlite(_) => Engine::Sqlite,
            Url::Postgres(_) => Engine::Postgres,
        };
        let migrator = Migrator::with_options(plan, options);
        let steps = conn
            .with_driver(|db| migrator.plan_steps(db))
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        show(&redact(url), &steps, engine)
    })
    .map_err(|e| (ExitCode::from(1), e))?;
    Ok(ExitCode::SUCCESS)
}

pub fn baseline(
    plan: &Migrations,
    targets: &Targets,
    version: u32,
) -> Result<ExitCode, (ExitCode, String)> {
    each_database(plan, targets, |url, conn, stores| {
        let options = Options {
            stores: Some(stores),
            ..Options::default()
        };
        let report = conn
            .with_driver(|db| Migrator::with_options(plan, options).baseline(db, version))
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        println!(
            "{}: adopted at version {version}, {} delta(s) recorded as applied",
            redact(url),
            report.applied.len()
        );
        Ok(())
    })
    .map_err(|e| (ExitCode::from(1), e))?;
    Ok(ExitCode::SUCCESS)
}

/// Where the plan schedules `update` (`delta/13/01_x.sql`), for messages.
fn scheduled_in(plan: &Migrations, update: &str) -> String {
    plan.background_updates
        .iter()
        .find(|u| u.name == update)
        .and_then(|u| {
            let store = plan.store(u.store)?;
            let delta = store
                .deltas
                .iter()
                .find(|d| d.version == u.version && d.name == u.delta)?;
            Some(match (&delta.code, delta.bodies().next()) {
                (Some(code), _) => code.file.to_string(),
                (None, Some(body)) => body.file.to_string(),
                (None, None) => format!("{}/{}", u.version, u.delta),
            })
        })
        .unwrap_or_else(|| "a delta".to_string())
}

pub fn bg_status(plan: &Migrations, targets: &Targets) -> Result<ExitCode, (ExitCode, String)> {
    use strata_runtime::background::{self, Builtin};
    let mut pending = false;
    each_database(plan, targets, |url, conn, _stores| {
        let rows = conn
            .with_driver(|db| background::updates(db))
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        println!("{}", redact(url));
        if rows.is_empty() {
            println!("  no background updates");
        }
        for u in &rows {
            let state = if u.completed {
                "completed".to_string()
            } else {
                pending = true;
                let kind = match serde_json::from_str::<serde_json::Value>(&u.progress)
                    .ok()
                    .as_ref()
                    .and_then(Builtin::from_json)
                {
                    Some(Ok(_)) => "built-in".to_string(),
                    Some(Err(e)) => format!("invalid built-in: {e}"),
                    None => "needs an application handler".to_string(),
                };
                match &u.depends_on {
                    Some(dep) if !rows.iter().any(|r| &r.name == dep && r.completed) => {
                        format!("waiting for {dep}; {kind}")
                    }
                    _ => format!("pending; {kind}; progress {}", u.progress),
                }
            };
            println!("  {:<40} ordering {:<6} {state}", u.name, u.ordering);
        }
        Ok(())
    })
    .map_err(|e| (ExitCode::from(2), e))?;
    Ok(if pending {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// The progress bar of one update: a bar when the handler estimates the items left, a
/// spinner otherwise; plain lines when stderr is not a terminal.
struct UpdateProgress {
    update: String,
    bar: indicatif::ProgressBar,
}

impl UpdateProgress {
    fn new(update: &str, terminal: bool) -> Self {
        let bar = if terminal {
            indicatif::ProgressBar::new_spinner()
        } else {
            indicatif::ProgressBar::hidden()
        };
        UpdateProgress {
            update: update.to_string(),
            bar,
        }
    }

    fn show(&self, b: &BatchReport, url: &str, terminal: bool) {
        let eta = b
            .eta
            .filter(|_| !b.completed)
            .map(|d| format!(", ETA {:.1?}", d))
            .unwrap_or_default();
        let msg = format!(
            "{}: {} item(s){}, {:.0} items/s{eta}{}",
            self.update,
            b.done,
            b.remaining
                .filter(|_| !b.completed)
                .map(|r| format!(" of {}", b.done + r))
                .unwrap_or_default(),
            b.items_per_second(),
            if b.completed { ", completed" } else { "" }
        );
        if !terminal {
            eprintln!("{url}: {msg}");
            return;
        }
        match b.remaining {
            Some(r) if !b.completed || b.done > 0 => {
                self.bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                        .expect("static template"),
                );
                self.bar.set_length(b.done + r);
                self.bar.set_position(b.done);
            }
            _ => self.bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg}")
                    .expect("static template"),
            ),
        }
        self.bar.set_message(msg);
        self.bar.tick();
    }
}

pub fn bg_run(
    plan: &Migrations,
    targets: &Targets,
    handlers: &Handlers,
    ctx: &Context<'_>,
) -> Result<ExitCode, (ExitCode, String)> {
    let terminal = std::io::stderr().is_terminal();
    each_database(plan, targets, |url, conn, _stores| {
        let url = redact(url);
        let result = conn
            .with_driver(|db| {
                let mut runner = Runner::new(handlers);
                if ctx.app.is_some() {
                    // The application's start-up check: every update has its handler.
                    runner.check(db)?;
                }
                let mut bar: Option<UpdateProgress> = None;
                let outcome = runner.run_until_done(db, |b| {
                    if bar.as_ref().is_none_or(|p| p.update != b.update) {
                        if let Some(old) = bar.take() {
                            old.bar.finish();
                        }
                        bar = Some(UpdateProgress::new(&b.update, terminal));
                    }
                    if let Some(p) = &bar {
                        p.show(b, &url, terminal);
                    }
                });
                if let Some(p) = bar {
                    p.bar.finish();
                }
                outcome
            })
            .map_err(|e| e.to_string())?;
        match result {
            Ok(reports) => {
                println!(
                    "{url}: {} batch(es), all background updates completed",
                    reports.len()
                );
                Ok(())
            }
            Err(strata_runtime::Error::MissingHandlers(names)) => {
                let list = names
                    .iter()
                    .map(|n| format!("`{n}` (scheduled in {})", scheduled_in(plan, n)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let (needs, them) = if names.len() == 1 {
                    ("it needs", "it")
                } else {
                    ("they need", "them")
                };
                Err(match ctx.app {
                    None => format!(
                        "{url}: stopped before {list}: {needs} an application handler; run {them} with your application's embedded command line (`strata::cli::Embedded` with its Handlers, e.g. `cargo run --example chat -- bg run`) or its own strata::background::Runner"
                    ),
                    Some(app) => format!(
                        "{url}: no handler for {list}: {app} registers none under that name; add it to the Handlers given to strata::cli::Embedded"
                    ),
                })
            }
            Err(e) => Err(format!("{url}: {e}")),
        }
    })
    .map_err(|e| (ExitCode::from(1), e))?;
    Ok(ExitCode::SUCCESS)
}

/// `strata new NAME`: the next delta file in the current version's folder.
pub fn new_delta(
    dir: &Path,
    name: &str,
    engine: Option<Engine>,
    store: Option<&str>,
) -> Result<ExitCode, (ExitCode, String)> {
    let fail = |m: String| (ExitCode::from(2), m);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(fail(format!(
            "delta name `{name}` must be letters, digits and `_` (it becomes part of the file name)"
        )));
    }
    let tree = strata_schema::Tree::load(dir).map_err(|e| fail(e.to_string()))?;
    let single = dir.join("delta").is_dir() || dir.join("full_schemas").is_dir();
    let store_dir = if single {
        if let Some(s) = store.filter(|s| *s != tree.manifest.store) {
            return Err(fail(format!(
                "this tree has a single store, `{}`, not `{s}`",
                tree.manifest.store
            )));
        }
        dir.to_path_buf()
    } else {
        let names: Vec<&str> = tree
            .stores
            .iter()
            .map(|s| s.name.as_str())
            .chain(tree.common.as_ref().map(|c| c.name.as_str()))
            .collect();
        match store {
            Some(s) if names.contains(&s) => dir.join(s),
            Some(s) => {
                return Err(fail(format!(
                    "no store `{s}` in this tree (stores: {})",
                    names.join(", ")
                )));
            }
            None => {
                return Err(fail(format!(
                    "this tree has several stores: pass --store (one of {})",
                    names.join(", ")
                )));
            }
        }
    };
    let version = tree.target_version().unwrap_or(1).max(1);
    let folder = store_dir.join("delta").join(version.to_string());
    std::fs::create_dir_all(&folder)
        .map_err(|e| fail(format!("cannot create `{}`: {e}", folder.display())))?;
    // Next number after the highest `NN_` prefix in the folder, across common and stores.
    let mut highest = 0;
    for s in tree.stores.iter().chain(tree.common.as_ref()) {
        for d in s.deltas.iter().filter(|d| d.version == version) {
            if let Some(n) = d.name.split('_').next().and_then(|p| p.parse::<u32>().ok()) {
                highest = highest.max(n);
            }
        }
    }
    let suffix = match engine {
        None => "sql".to_string(),
        Some(e) => format!("sql.{}", e.name()),
    };
    let file = folder.join(format!("{:02}_{name}.{suffix}", highest + 1));
    if file.exists() {
        return Err(fail(format!("`{}` already exists", file.display())));
    }
    let header = format!(
        "-- Delta {version}/{:02}_{name}{}: describe what it changes and why.\n-- Deltas in a version run in file-name order; this one runs last so far.\n",
        highest + 1,
        engine.map(|e| format!(" ({e} only)")).unwrap_or_default()
    );
    std::fs::write(&file, header)
        .map_err(|e| fail(format!("cannot write `{}`: {e}", file.display())))?;
    println!("{}", file.display());
    Ok(ExitCode::SUCCESS)
}
