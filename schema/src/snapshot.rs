//! `strata dump`: full schema snapshots written from the replayed history, so that
//! snapshots are never written by hand.
//!
//! The SQLite snapshot at version N comes from the in-memory replay of the history up to N
//! (the same replay the checks run, built-in background updates applied): every table,
//! index, view and trigger in creation order, then the rows of tables that have any
//! (ordered by every column, values quoted by SQLite itself). Each statement is rewritten
//! by sqlparser's formatter when the result builds the same schema, and kept as SQLite
//! stores it otherwise. The output is checked before it is returned: loading it on a fresh
//! database must give exactly the replayed schema and rows.

use std::path::PathBuf;

use crate::analysis::Analysis;
use crate::engine::Engine;
use crate::error::Result;
use crate::tree::Tree;
use crate::validate::{self, Captured, SqliteValidator};

/// A file of a snapshot, relative to the tree's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// `main/full_schemas/14/01_schema.sql.sqlite`, or without the store folder in a
    /// single-store tree.
    pub path: PathBuf,
    /// Its contents.
    pub text: String,
}

/// The folder of `store` inside the tree (the root itself for a single-store tree).
pub fn store_dir(tree: &Tree, store: &str) -> PathBuf {
    let single = tree.root.join("delta").is_dir() || tree.root.join("full_schemas").is_dir();
    if single {
        PathBuf::new()
    } else {
        PathBuf::from(store)
    }
}

/// The snapshot file name of `engine` in `tree` (`01_schema.sql` when the tree targets
/// that engine only).
pub fn file_name(tree: &Tree, engine: Engine) -> String {
    let only = tree.manifest.engines.iter().all(|e| *e == engine);
    if only {
        "01_schema.sql".to_string()
    } else {
        format!("01_schema.sql.{}", engine.name())
    }
}

/// The SQLite snapshot files at `version` from an analysis run with
/// [`CheckOptions::capture`](crate::CheckOptions::capture) = `Some(version)`: one per
/// store, plus `common`'s. `Err` says why a store's history cannot give that version.
pub fn sqlite_files(
    tree: &Tree,
    analysis: &Analysis,
    version: u32,
) -> Result<Vec<SnapshotFile>, String> {
    let name = file_name(tree, Engine::Sqlite);
    let mut files = Vec::new();
    let mut common_text: Option<String> = None;
    for (store, captured) in &analysis.captured {
        let captured = captured.as_ref().map_err(Clone::clone)?;
        let common = tree.common.as_ref().map(|c| c.name.as_str());
        let is_common_store = Some(store.as_str()) == common;
        // In a store's replay, `common`'s objects go to common's file, the rest to the store's.
        let mine = |owner: &str| is_common_store || Some(owner) != common;
        let theirs = |owner: &str| !is_common_store && Some(owner) == common;
        let text = render(store, version, captured, &mine)?;
        if let Some(c) = common
            && !is_common_store
            && captured.objects.iter().any(|o| theirs(&o.owner))
        {
            let ct = render(c, version, captured, &theirs)?;
            verify(captured, &[&ct, &text])?;
            common_text.get_or_insert(ct);
        } else {
            verify(captured, &[&text])?;
        }
        files.push(SnapshotFile {
            path: store_dir(tree, store)
                .join("full_schemas")
                .join(version.to_string())
                .join(&name),
            text,
        });
    }
    if let (Some(text), Some(c)) = (common_text, &tree.common)
        && !analysis.captured.contains_key(&c.name)
    {
        files.push(SnapshotFile {
            path: PathBuf::from(&c.name)
                .join("full_schemas")
                .join(version.to_string())
                .join(&name),
            text,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The file text of the objects and rows `keep` selects (by owner).
fn render(
    store: &str,
    version: u32,
    captured: &Captured,
    keep: &dyn Fn(&str) -> bool,
) -> Result<String, String> {
    let mut out = format!(
        "-- {store} store, full schema at version {version} (SQLite).\n\
         -- Written by `strata dump --version {version}` from the replayed history: do not edit;\n\
         -- dump again instead.\n"
    );
    let mut last_kind = "";
    let tables: Vec<&str> = captured
        .objects
        .iter()
        .filter(|o| o.kind == "table" && keep(&o.owner))
        .map(|o| o.name.as_str())
        .collect();
    for kind in ["table", "index", "view", "trigger"] {
        for o in captured
            .objects
            .iter()
            .filter(|o| o.kind == kind && keep(&o.owner))
        {
            if kind != last_kind || kind == "table" || kind == "trigger" {
                out.push('\n');
            }
            last_kind = kind;
            out.push_str(&format_statement(&o.sql));
            out.push('\n');
        }
    }
    let mut first = true;
    for table in tables {
        if let Some(rows) = captured.rows.get(table) {
            if first {
                out.push_str("\n-- Rows.\n");
                first = false;
            }
            for r in rows {
                out.push_str(r);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// One statement, formatted by sqlparser when it reads it (and ends with `;`).
fn format_statement(sql: &str) -> String {
    use sqlparser::parser::Parser;
    let formatted = Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql)
        .ok()
        .filter(|s| s.len() == 1)
        .map(|s| format!("{:#}", s[0]))
        .filter(|f| SqliteValidator::syntax_check(f).is_ok());
    let text = formatted.unwrap_or_else(|| sql.trim().to_string());
    let mut lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    if let Some(last) = lines.last_mut() {
        *last = last.trim_end_matches(';');
    }
    let mut text = lines.join("\n");
    text.push(';');
    text
}

/// Loads `texts` on a fresh database: the result must equal the replay.
fn verify(captured: &Captured, texts: &[&str]) -> Result<(), String> {
    let db = SqliteValidator::new().map_err(|e| e.to_string())?;
    for t in texts {
        db.execute(t)
            .map_err(|e| format!("the dumped snapshot does not load: {}", e.message))?;
    }
    let lines = validate::diff(
        &db.dump().map_err(|e| e.to_string())?,
        &captured.dump,
        "the dump",
        "the deltas",
    );
    if lines.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the dumped snapshot does not rebuild the replayed schema (please report this):\n  {}",
            lines.join("\n  ")
        ))
    }
}
