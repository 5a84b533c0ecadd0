//! The small engine interface the migrator runs on: one file per backend.
//!
//! Everything engine-specific (SQL dialect of the bookkeeping queries, locking, foreign-key
//! handling) lives behind [`Driver`]; the migrator never asks which engine it talks to.

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use crate::error::DriverError;

/// A row of `strata_schema_version`: where one store stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    /// Store name (`common` for the shared scripts).
    pub store: String,
    /// The version the store has reached.
    pub version: u32,
    /// Whether it got there by running deltas (not only by loading a snapshot).
    pub upgraded: bool,
    /// The snapshot it was built from, if any.
    pub snapshot_version: Option<u32>,
    /// The highest compat version ever recorded (never lowered).
    pub compat_version: u32,
    /// Digest of the plan of the store when it was last fully migrated by a binary.
    pub plan_digest: Option<String>,
    /// Tree fingerprint of the binary that last migrated it.
    pub tree_fingerprint: Option<String>,
}

/// A row of `strata_applied_deltas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRow {
    /// Store name.
    pub store: String,
    /// Delta version.
    pub version: u32,
    /// Delta name.
    pub name: String,
    /// Engine it ran on.
    pub engine: String,
    /// Checksum of the body that ran.
    pub checksum: String,
    /// When, in milliseconds since the Unix epoch.
    pub applied_at: i64,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

/// What the migrator needs from a database connection. Code deltas see it as a
/// [`Transaction`](crate::transaction::Transaction).
pub trait Driver: crate::transaction::Transaction {
    /// Runs one statement (no parameters, results discarded).
    fn execute_batch(&mut self, sql: &str) -> Result<(), DriverError>;
    /// Starts a transaction that takes the write lock at once (SQLite: `BEGIN IMMEDIATE`).
    fn begin(&mut self) -> Result<(), DriverError>;
    /// Commits the current transaction.
    fn commit(&mut self) -> Result<(), DriverError> {
        self.execute_batch("COMMIT")
    }
    /// Rolls the current transaction back.
    fn rollback(&mut self) -> Result<(), DriverError> {
        self.execute_batch("ROLLBACK")
    }
    /// Takes the session-wide migration lock (PostgreSQL: an advisory lock). SQLite relies
    /// on `BEGIN IMMEDIATE` and does nothing here.
    fn lock(&mut self) -> Result<(), DriverError>;
    /// Releases the session-wide migration lock.
    fn unlock(&mut self) -> Result<(), DriverError>;
    /// Whether `strata_schema_version` exists.
    fn bookkeeping_exists(&mut self) -> Result<bool, DriverError>;
    /// A value of `strata_meta`.
    fn meta(&mut self, key: &str) -> Result<Option<String>, DriverError>;
    /// Sets a value of `strata_meta`.
    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), DriverError>;
    /// The version row of `store` (one row read).
    fn version(&mut self, store: &str) -> Result<Option<VersionRow>, DriverError>;
    /// Inserts or replaces a version row.
    fn put_version(&mut self, row: &VersionRow) -> Result<(), DriverError>;
    /// Every applied delta of `store`.
    fn applied(&mut self, store: &str) -> Result<Vec<AppliedRow>, DriverError>;
    /// Whether one delta is recorded as applied (one row read).
    fn is_applied(&mut self, store: &str, version: u32, name: &str) -> Result<bool, DriverError>;
    /// Records an applied delta.
    fn put_applied(&mut self, row: &AppliedRow) -> Result<(), DriverError>;
    /// Switches foreign-key enforcement (outside a transaction). No-op where the engine
    /// checks foreign keys itself at all times.
    fn set_foreign_keys(&mut self, on: bool) -> Result<(), DriverError>;
    /// Foreign-key violations (SQLite's `PRAGMA foreign_key_check`), one line each.
    fn foreign_key_violations(&mut self) -> Result<Vec<String>, DriverError>;
    /// Names of background updates not completed yet, in run order.
    fn pending_background_updates(&mut self) -> Result<Vec<String>, DriverError>;
    /// Inside a background update's batch transaction: lock its queue row (PostgreSQL
    /// `SELECT ... FOR UPDATE`; SQLite's `BEGIN IMMEDIATE` already serialises writers).
    fn lock_background_update(&mut self, _name: &str) -> Result<(), DriverError> {
        Ok(())
    }
    /// Takes the session lock one-shot background updates run under, if free.
    fn try_lock_background(&mut self) -> Result<bool, DriverError> {
        Ok(true)
    }
    /// Releases the lock of [`try_lock_background`](Self::try_lock_background).
    fn unlock_background(&mut self) -> Result<(), DriverError> {
        Ok(())
    }
    /// Whether indexes are built with `CREATE INDEX CONCURRENTLY` (PostgreSQL).
    fn supports_concurrent_index(&self) -> bool {
        false
    }
    /// Before retrying a `no-transaction` `CREATE INDEX CONCURRENTLY`: drop an INVALID index
    /// of that name left by an interrupted build. Returns whether one was dropped.
    fn drop_invalid_index(&mut self, _index: &str) -> Result<bool, DriverError> {
        Ok(false)
    }
}

/// A connection a driver either borrows (the common case: the application keeps its
/// connection) or owns (a driver moved to a background thread, see
/// [`BackgroundWorker`](crate::background::BackgroundWorker)).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) enum Conn<'c, C> {
    Borrowed(&'c mut C),
    Owned(Box<C>),
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl<C> std::ops::Deref for Conn<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        match self {
            Conn::Borrowed(c) => c,
            Conn::Owned(c) => c,
        }
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl<C> std::ops::DerefMut for Conn<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        match self {
            Conn::Borrowed(c) => c,
            Conn::Owned(c) => c,
        }
    }
}

/// Runs `f` in a transaction: committed when it succeeds, rolled back when it fails.
pub(crate) fn in_transaction<T, E: From<DriverError>>(
    db: &mut dyn Driver,
    f: impl FnOnce(&mut dyn Driver) -> Result<T, E>,
) -> Result<T, E> {
    db.begin()?;
    match f(db) {
        Ok(value) => {
            db.commit()?;
            Ok(value)
        }
        Err(e) => {
            db.rollback()?;
            Err(e)
        }
    }
}
