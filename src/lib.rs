//! strata: versioned SQL schema migrations for SQLite and PostgreSQL, checked before they run.
//!
//! - [`schema`]: the analysis core. It reads a migration tree, lints it, validates it by
//!   execution on an in-memory SQLite and builds its plan.
//! - [`runtime`] (re-exported at the top level): applies a plan to SQLite (feature
//!   `sqlite`, default) or PostgreSQL (feature `postgres`).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tree = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/chat/schema");
//! let (report, plan) = strata::schema::load_plan(&tree, &Default::default())?;
//! let plan = plan.ok_or_else(|| report.render())?;
//! let mut conn = rusqlite::Connection::open_in_memory()?;
//! let mut db = strata::driver::sqlite::SqliteDriver::new(&mut conn)?;
//! let up_to_14 = strata::Options { to_version: Some(14), ..Default::default() };
//! let done = strata::Migrator::with_options(&plan, up_to_14).apply(&mut db)?;
//! assert_eq!(done.snapshots.len(), 3); // common, main and state load snapshot 10
//! // Version 15 has a code delta: a plan loaded from disk has no function for it, only
//! // `include_migrations!` compiles it in.
//! let err = strata::Migrator::new(&plan).apply(&mut db).unwrap_err();
//! assert!(matches!(err, strata::Error::CodeDeltaUnavailable { version: 15, .. }));
//! # Ok(()) }
//! ```

pub use strata_macros::include_migrations;
pub use strata_runtime as runtime;
pub use strata_runtime::*;
pub use strata_schema as schema;

/// The `strata` commands embedded in an application's own binary, over its compiled-in plan
/// and background-update handlers (feature `cli`, default). See [`cli::Embedded`].
///
/// ```no_run
/// static MIGRATIONS: strata::Migrations = strata::Migrations::EMPTY; // include_migrations!(...)
///
/// fn main() -> std::process::ExitCode {
///     strata::cli::run(&MIGRATIONS, strata::background::Handlers::new())
/// }
/// ```
#[cfg(feature = "cli")]
pub use strata_cli as cli;
