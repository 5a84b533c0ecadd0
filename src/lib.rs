//! strata: versioned SQL schema migrations for SQLite and PostgreSQL, checked before they run.
//!
//! This facade re-exports strata's crates. Today that is the analysis core, which reads a
//! migration tree, lints it and validates it by execution on an in-memory SQLite:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tree = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/chat/schema");
//! let report = strata::schema::check(&tree, &Default::default())?;
//! assert!(!report.analysis.has_errors(), "{}", report.render());
//! # Ok(()) }
//! ```

pub use strata_schema as schema;
