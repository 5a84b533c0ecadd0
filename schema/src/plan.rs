//! Building the runtime's [`Migrations`] plan from a checked tree: the one code path behind
//! both `include_migrations!` (which embeds the result) and the CLI (which loads it at run
//! time).

use sha2::{Digest, Sha256};
use sqlparser::ast;
use strata_runtime::plan::{
    BodyInput, Migrations, ScheduledUpdate, Scripts, Snapshot, Store, Table, TableBuilder, leak,
    leak_list,
};

use crate::analysis::Analysis;
use crate::checksum::checksum;
use crate::directive::Directive;
use crate::engine::Engine;
use crate::model::object_name;
use crate::tree::{Script, ScriptKind, Store as TreeStore, Tree};

/// Builds the plan of `tree`. Call it only on an analysis without errors: every body must
/// have been parsed for every target engine. The plan is leaked (its fields are `'static`,
/// like the macro's): build it once per process.
pub fn build(tree: &Tree, analysis: &Analysis) -> Migrations {
    let engines = tree.manifest.engines.clone();
    // Every delta of every store goes into one table; a store keeps ranges of it.
    let mut table = TableBuilder::default();
    let ranges: Vec<StoreRanges> = tree
        .stores
        .iter()
        .chain(&tree.common)
        .map(|s| push_store(tree, analysis, &engines, s, &mut table))
        .collect();
    let table = table.finish();
    let mut stores: Vec<Store> = tree
        .stores
        .iter()
        .chain(&tree.common)
        .zip(&ranges)
        .map(|(s, r)| build_store(tree, s, r, table))
        .collect();
    let common = tree.common.as_ref().and_then(|_| stores.pop());
    let target_version = tree.target_version().unwrap_or(0);
    Migrations {
        engines: leak_list(engines.clone()),
        stores: leak_list(stores),
        common,
        target_version,
        compat_version: tree.compat_version().unwrap_or(target_version),
        fingerprint: leak(fingerprint(tree)),
        background_updates: leak_list(
            analysis
                .scheduled_updates
                .iter()
                .map(|u| ScheduledUpdate {
                    store: leak(u.store.clone()),
                    version: u.version,
                    delta: leak(u.delta.clone()),
                    name: leak(u.name.clone()),
                    depends_on: u.depends_on.clone().map(leak),
                    ordering: u.ordering,
                })
                .collect(),
        ),
    }
}

/// A digest of every file of the tree (path and contents), in path order.
pub fn fingerprint(tree: &Tree) -> String {
    let mut files: Vec<_> = tree.files.iter().collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = Sha256::new();
    for f in files {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(f.text.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a store's scripts are in the table: (version, start, len) per snapshot, then the
/// deltas' (start, len).
struct StoreRanges {
    snapshots: Vec<(u32, u32, u32)>,
    deltas: (u32, u32),
}

fn push_store(
    tree: &Tree,
    analysis: &Analysis,
    engines: &[Engine],
    s: &TreeStore,
    table: &mut TableBuilder,
) -> StoreRanges {
    let push_all = |scripts: &[Script], table: &mut TableBuilder| {
        let start = table.len();
        for d in scripts {
            push_script(tree, analysis, engines, d, table);
        }
        (start, table.len() - start)
    };
    let snapshots = s
        .snapshots
        .iter()
        .map(|sn| {
            let (start, len) = push_all(&sn.scripts, table);
            (sn.version, start, len)
        })
        .collect();
    let deltas = push_all(&s.deltas, table);
    StoreRanges { snapshots, deltas }
}

fn build_store(tree: &Tree, s: &TreeStore, r: &StoreRanges, table: &'static Table) -> Store {
    let snapshots: Vec<Snapshot> = r
        .snapshots
        .iter()
        .map(|&(version, start, len)| Snapshot {
            version,
            scripts: Scripts::new(table, start, len),
        })
        .collect();
    let deltas = Scripts::new(table, r.deltas.0, r.deltas.1);
    let mut h = Sha256::new();
    h.update(format!("store {}\n", s.name));
    let mut feed = |kind: &str, d: strata_runtime::plan::Delta| {
        h.update(format!("{kind} {} {}\n", d.version, d.name));
        for b in d.bodies() {
            h.update(format!("  {} {}\n", b.engine, b.checksum));
        }
    };
    for sn in &snapshots {
        for d in sn.scripts.iter() {
            feed("snapshot", d);
        }
    }
    for d in deltas.iter() {
        feed("delta", d);
    }
    h.update(format!("target {}\n", tree.target_version().unwrap_or(0)));
    Store {
        name: leak(s.name.clone()),
        snapshots: leak_list(snapshots),
        deltas,
        digest: leak(hex(&h.finalize())),
    }
}

fn push_script(
    tree: &Tree,
    analysis: &Analysis,
    engines: &[Engine],
    d: &Script,
    table: &mut TableBuilder,
) {
    if let ScriptKind::Code { file, effect } = &d.kind {
        // The checksum covers the code and its declared schema effect; line ends are
        // normalised so that a CRLF checkout does not change it.
        let mut h = Sha256::new();
        h.update(b"strata-code-delta-v1\n");
        h.update(tree.files[*file].text.replace("\r\n", "\n").as_bytes());
        if let Some(effect) = effect {
            for &engine in engines {
                if let Some(parsed) = analysis.parsed.get(&(*effect, engine)) {
                    h.update(format!("\neffect {engine} {}", checksum(parsed)).as_bytes());
                }
            }
        }
        let checksum = hex(&h.finalize());
        table.push_code(d.version, &d.name, &tree.files[*file].path, &checksum);
        return;
    }
    struct Owned<'t> {
        engine: Engine,
        file: &'t str,
        statements: Vec<&'t str>,
        no_transaction: bool,
        foreign_keys_off: bool,
        checksum: String,
        concurrent_index: Option<String>,
    }
    let bodies: Vec<Owned<'_>> = engines
        .iter()
        .filter_map(|&engine| {
            let file = d.body(engine)?;
            let parsed = analysis.parsed.get(&(file, engine))?;
            let source = &tree.files[file];
            let no_transaction = parsed.has(&Directive::NoTransaction);
            let concurrent_index = match parsed.statements.as_slice() {
                [only] if no_transaction => match &only.ast {
                    Some(ast::Statement::CreateIndex(ci)) if ci.concurrently => {
                        ci.name.as_ref().map(object_name)
                    }
                    _ => None,
                },
                _ => None,
            };
            Some(Owned {
                engine,
                file: &source.path,
                statements: parsed
                    .statements
                    .iter()
                    .map(|s| s.statement.sql(&source.text))
                    .collect(),
                no_transaction,
                foreign_keys_off: parsed.has(&Directive::ForeignKeysOff),
                checksum: checksum(parsed),
                concurrent_index,
            })
        })
        .collect();
    let inputs: Vec<BodyInput<'_>> = bodies
        .iter()
        .map(|b| BodyInput {
            engine: b.engine,
            file: b.file,
            statements: &b.statements,
            no_transaction: b.no_transaction,
            foreign_keys_off: b.foreign_keys_off,
            checksum: &b.checksum,
            concurrent_index: b.concurrent_index.as_deref(),
        })
        .collect();
    table.push_sql(d.version, &d.name, &inputs);
}

/// A table of the final schema, for typed constants (`include_migrations!(pub mod db = ...)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConsts {
    /// The table's name.
    pub name: String,
    /// The stores that have it (`common` for shared tables).
    pub stores: Vec<String>,
    /// Its columns in declaration order, with the engines each exists on.
    pub columns: Vec<(String, Vec<Engine>)>,
}

/// The tables of the final schema of every store on every engine (strata's own tables
/// excluded), by name. A column that exists on one engine only lists that engine.
pub fn table_consts(analysis: &Analysis) -> Vec<TableConsts> {
    let mut tables: std::collections::BTreeMap<String, TableConsts> = Default::default();
    for ((_, engine), model) in &analysis.final_models {
        for t in model.tables.values() {
            if crate::bookkeeping::is_bookkeeping(&t.name) {
                continue;
            }
            let entry = tables.entry(t.name.clone()).or_insert_with(|| TableConsts {
                name: t.name.clone(),
                stores: Vec::new(),
                columns: Vec::new(),
            });
            if !entry.stores.contains(&t.owner) {
                entry.stores.push(t.owner.clone());
                entry.stores.sort();
            }
            for c in &t.columns {
                match entry.columns.iter_mut().find(|(n, _)| *n == c.name) {
                    Some((_, engines)) if !engines.contains(engine) => {
                        engines.push(*engine);
                        engines.sort();
                    }
                    Some(_) => {}
                    None => entry.columns.push((c.name.clone(), vec![*engine])),
                }
            }
        }
    }
    tables.into_values().collect()
}
