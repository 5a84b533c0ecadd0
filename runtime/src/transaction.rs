//! What a code delta receives: a transaction usable on both engines.
//!
//! Parameters are written `$1`, `$2`, ... on both engines (SQLite reads `$1` as a parameter
//! too; each must appear once, in order).
//!
//! ```
//! use strata_runtime::transaction::{Transaction, Value};
//!
//! /// `delta/12/01_fix_names.rs`
//! pub fn migrate(tx: &mut dyn Transaction) -> Result<(), strata_runtime::CodeError> {
//!     for row in tx.query("SELECT id, name FROM users", &[])? {
//!         if let [Value::Integer(id), Value::Text(name)] = row.as_slice() {
//!             tx.execute(
//!                 "UPDATE users SET name = $1 WHERE id = $2",
//!                 &[Value::Text(name.trim().to_string()), Value::Integer(*id)],
//!             )?;
//!         }
//!     }
//!     Ok(())
//! }
//! # let _ = migrate;
//! ```

use crate::engine::Engine;
use crate::error::DriverError;

/// A value passed to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (booleans read as 0/1).
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes (`BLOB` / `BYTEA`).
    Blob(Vec<u8>),
}

/// Statements inside the migration's transaction.
pub trait Transaction {
    /// The engine, for the rare code that must differ.
    fn engine(&self) -> Engine;
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError>;
    /// Runs a query; returns its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DriverError>;
}

/// What a code delta returns on failure.
pub type CodeError = Box<dyn std::error::Error + Send + Sync>;
