//! strata's analysis core: tree discovery, statement splitting, parsing, lints, the schema
//! model and validation on an in-memory SQLite.
//!
//! Everything strata knows about a migration tree comes from here, at compile time (the
//! `include_migrations!` macro) and at run time (the `strata` CLI) alike. This crate never
//! touches `proc_macro` or a network database; its only database is the in-memory SQLite
//! it validates with.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir_all(dir.path().join("delta/1"))?;
//! std::fs::write(
//!     dir.path().join("delta/1/01_users.sql"),
//!     "CREATE TABLE users (id BIGINT PRIMARY KEY, created_ts BIGINT NOT NULL);",
//! )?;
//! let report = strata_schema::check(dir.path(), &Default::default())?;
//! assert!(!report.analysis.has_errors());
//! # Ok(()) }
//! ```

pub mod analysis;
pub mod bookkeeping;
pub mod build;
pub mod checksum;
pub mod diagnostic;
pub mod directive;
pub mod engine;
pub mod error;
pub mod history;
pub mod lints;
pub mod manifest;
pub mod model;
pub mod parse;
pub mod plan;
pub mod position;
pub mod snapshot;
pub mod split;
pub mod tree;
pub mod validate;

pub use analysis::{Analysis, CheckOptions};
pub use diagnostic::{Diagnostic, Severity};
pub use engine::Engine;
pub use error::{Error, Result};
pub use tree::Tree;

/// A tree and what checking it found.
#[derive(Debug)]
pub struct Report {
    /// The tree as read from disk.
    pub tree: Tree,
    /// The analysis.
    pub analysis: Analysis,
}

impl Report {
    /// The diagnostics rendered like rustc, as plain text.
    pub fn render(&self) -> String {
        diagnostic::render(&self.analysis.diagnostics, Some(&self.tree))
    }
}

/// Reads and checks the tree at `root` and, when it has no errors, builds its plan: the
/// same [`strata_runtime::Migrations`] that `include_migrations!` embeds. The report is
/// returned either way (its warnings are worth showing).
///
/// The plan's strings and lists are `'static`: they are leaked (see
/// [`strata_runtime::plan::leak`]), so load a tree once per process, as the CLI does.
pub fn load_plan(
    root: &std::path::Path,
    options: &CheckOptions,
) -> Result<(Report, Option<strata_runtime::Migrations>)> {
    let report = check(root, options)?;
    let plan = (!report.analysis.has_errors()).then(|| plan::build(&report.tree, &report.analysis));
    Ok((report, plan))
}

/// Reads the tree at `root` and checks it.
pub fn check(root: &std::path::Path, options: &CheckOptions) -> Result<Report> {
    let tree = Tree::load(root)?;
    let analysis = analysis::analyse(&tree, options)?;
    Ok(Report { tree, analysis })
}
