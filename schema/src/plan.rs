//! Building the runtime's [`Migrations`] plan from a checked tree: the one code path behind
//! both `include_migrations!` (which embeds the result) and the CLI (which loads it at run
//! time).

use sha2::{Digest, Sha256};
use sqlparser::ast;
use strata_runtime::plan::{
    Body, CodeDelta, Delta, Migrations, ScheduledUpdate, Snapshot, Store, leak, leak_list,
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
    let store = |s: &TreeStore| build_store(tree, analysis, &engines, s);
    let target_version = tree.target_version().unwrap_or(0);
    Migrations {
        engines: leak_list(engines.clone()),
        stores: leak_list(tree.stores.iter().map(store).collect()),
        common: tree.common.as_ref().map(store),
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

fn build_store(tree: &Tree, analysis: &Analysis, engines: &[Engine], s: &TreeStore) -> Store {
    let script = |d: &Script| build_script(tree, analysis, engines, d);
    let snapshots: Vec<Snapshot> = s
        .snapshots
        .iter()
        .map(|sn| Snapshot {
            version: sn.version,
            scripts: leak_list(sn.scripts.iter().map(script).collect()),
        })
        .collect();
    let deltas: Vec<Delta> = s.deltas.iter().map(script).collect();
    let mut h = Sha256::new();
    h.update(format!("store {}\n", s.name));
    let mut feed = |kind: &str, d: &Delta| {
        h.update(format!("{kind} {} {}\n", d.version, d.name));
        for b in d.bodies.iter() {
            h.update(format!("  {} {}\n", b.engine, b.checksum));
        }
    };
    for sn in &snapshots {
        for d in sn.scripts.iter() {
            feed("snapshot", d);
        }
    }
    for d in &deltas {
        feed("delta", d);
    }
    h.update(format!("target {}\n", tree.target_version().unwrap_or(0)));
    Store {
        name: leak(s.name.clone()),
        snapshots: leak_list(snapshots),
        deltas: leak_list(deltas),
        digest: leak(hex(&h.finalize())),
    }
}

fn build_script(tree: &Tree, analysis: &Analysis, engines: &[Engine], d: &Script) -> Delta {
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
        return Delta {
            version: d.version,
            name: leak(d.name.clone()),
            bodies: leak_list(Vec::new()),
            code: Some(CodeDelta {
                file: leak(tree.files[*file].path.clone()),
                checksum: leak(hex(&h.finalize())),
                run: None,
            }),
        };
    }
    let bodies = engines
        .iter()
        .filter_map(|&engine| {
            let file = d.body(engine)?;
            let parsed = analysis.parsed.get(&(file, engine))?;
            let source = &tree.files[file];
            let no_transaction = parsed.has(&Directive::NoTransaction);
            let concurrent_index = match parsed.statements.as_slice() {
                [only] if no_transaction => match &only.ast {
                    Some(ast::Statement::CreateIndex(ci)) if ci.concurrently => {
                        ci.name.as_ref().map(|n| leak(object_name(n)))
                    }
                    _ => None,
                },
                _ => None,
            };
            Some(Body {
                engine,
                file: leak(source.path.clone()),
                statements: leak_list(
                    parsed
                        .statements
                        .iter()
                        .map(|s| leak(s.statement.sql(&source.text)))
                        .collect(),
                ),
                no_transaction,
                foreign_keys_off: parsed.has(&Directive::ForeignKeysOff),
                checksum: leak(checksum(parsed)),
                concurrent_index,
            })
        })
        .collect();
    Delta {
        version: d.version,
        name: leak(d.name.clone()),
        bodies: leak_list(bodies),
        code: None,
    }
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
