//! The runtime's error type.

/// An error from a database driver, with the engine's own code when it has one.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DriverError {
    /// The engine's message.
    pub message: String,
    /// SQLSTATE (PostgreSQL) or the extended result code name (SQLite), when known.
    pub code: Option<String>,
    /// The underlying driver error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl DriverError {
    /// A driver error with only a message.
    pub fn msg(message: impl Into<String>) -> Self {
        DriverError {
            message: message.into(),
            code: None,
            source: None,
        }
    }
}

/// Where and why a delta failed.
#[derive(Debug, thiserror::Error)]
#[error(
    "delta {store}/{version}/{name} failed at statement {statement} of `{file}`: {source}\n  statement: {sql}\n  the deltas before it are applied; fix this delta and run again"
)]
pub struct DeltaFailure {
    /// Store.
    pub store: String,
    /// Version.
    pub version: u32,
    /// Delta name.
    pub name: String,
    /// File of the body that failed.
    pub file: String,
    /// 1-based index of the failing statement.
    pub statement: usize,
    /// The statement (shortened).
    pub sql: String,
    /// The driver's error.
    #[source]
    pub source: DriverError,
}

/// Everything that can stop a migration. Every variant says which store, delta or version
/// is concerned and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A statement of a delta failed; the deltas before it are committed.
    #[error("{0}")]
    DeltaFailed(Box<DeltaFailure>),
    /// The database is newer than this code and its compat version does not allow it to run.
    #[error(
        "store `{store}` is at version {db_version} (compat version {db_compat}), newer than this code's version {code_version}: this code is too old for the database; deploy a release of version {db_compat} or later"
    )]
    DatabaseTooNew {
        /// Store.
        store: String,
        /// The database's version.
        db_version: u32,
        /// The database's compat version.
        db_compat: u32,
        /// This code's target version.
        code_version: u32,
    },
    /// An applied delta's checksum differs from the code's.
    #[error(
        "delta {store}/{version}/{name} was changed after it was applied: recorded checksum {recorded}, the code has {expected} (`{file}`)\n  databases that applied it will never run the change: revert the edit and put the change in a new delta"
    )]
    ChecksumMismatch {
        /// Store.
        store: String,
        /// Version.
        version: u32,
        /// Delta name.
        name: String,
        /// File.
        file: String,
        /// Checksum in the database.
        recorded: Box<str>,
        /// Checksum in the code.
        expected: Box<str>,
    },
    /// A delta in a version below the database's was never applied.
    #[error(
        "delta {store}/{version}/{name} was never applied to this database, which is already at version {db_version}: deltas added to an old version's folder never run on upgraded databases; move it to delta/{db_version}/ (or a newer version folder)"
    )]
    LateDelta {
        /// Store.
        store: String,
        /// Version of the delta.
        version: u32,
        /// Delta name.
        name: String,
        /// The database's version.
        db_version: u32,
    },
    /// The database records a delta the code does not have.
    #[error(
        "the database records delta {store}/{version}/{name}, which this code does not have. {hint}"
    )]
    UnknownDelta {
        /// Store.
        store: String,
        /// Version.
        version: u32,
        /// Delta name.
        name: String,
        /// Whether the binary looks stale.
        hint: String,
    },
    /// `PRAGMA foreign_key_check` found violations after a `foreign-keys-off` delta.
    #[error(
        "delta {store}/{version}/{name} left foreign-key violations: {violations:?}; it was rolled back"
    )]
    ForeignKeyViolations {
        /// Store.
        store: String,
        /// Version.
        version: u32,
        /// Delta name.
        name: String,
        /// One line per violation.
        violations: Vec<String>,
    },
    /// The bookkeeping tables were written by a newer strata.
    #[error(
        "the strata bookkeeping tables have format {found}, this strata understands up to {supported}: upgrade strata"
    )]
    BookkeepingFormat {
        /// The format found.
        found: i64,
        /// The newest this runtime supports.
        supported: i64,
    },
    /// A code delta returned an error; it was rolled back with its savepoint.
    #[error(
        "code delta {store}/{version}/{name} (`{file}`) failed: {source}\n  the deltas before it are applied; fix it and run again"
    )]
    CodeDeltaFailed {
        /// Store.
        store: String,
        /// Version.
        version: u32,
        /// Delta name.
        name: String,
        /// The `.rs` file.
        file: String,
        /// What the code returned.
        #[source]
        source: crate::transaction::CodeError,
    },
    /// A plan loaded at run time holds a code delta it cannot run.
    #[error(
        "delta {store}/{version}/{name} is a code delta (`{file}`): only a binary built with `include_migrations!` can run it; run your application's embedded migrations instead of the generic `strata` binary"
    )]
    CodeDeltaUnavailable {
        /// Store.
        store: String,
        /// Version.
        version: u32,
        /// Delta name.
        name: String,
        /// The `.rs` file.
        file: String,
    },
    /// `baseline` on a store strata already manages.
    #[error(
        "store `{store}` is already managed by strata (at version {version}): baseline only adopts databases strata has never migrated"
    )]
    AlreadyManaged {
        /// Store.
        store: String,
        /// Its recorded version.
        version: u32,
    },
    /// `baseline` to a version beyond the plan.
    #[error("cannot baseline at version {version}: this code only knows versions up to {target}")]
    BaselineBeyondTarget {
        /// Requested version.
        version: u32,
        /// The plan's target.
        target: u32,
    },
    /// `has_completed` asked about an update no delta scheduled.
    #[error(
        "no background update named `{0}` was ever scheduled: check the name (completed updates stay recorded, so this is not a finished one)"
    )]
    UnknownBackgroundUpdate(String),
    /// The start-up gate: updates the code needs have not completed.
    #[error("background updates not completed yet: {}; run them (Runner::run_until_done, or `strata bg run`) before starting code that needs them", .0.join(", "))]
    BackgroundUpdatesPending(Vec<String>),
    /// Scheduled updates without a registered handler.
    #[error("no handler registered for background update(s) {}: register them with Handlers (or `noop` for retired ones)", .0.join(", "))]
    MissingHandlers(Vec<String>),
    /// An update depends on one that was never scheduled.
    #[error(
        "background update `{update}` depends on `{depends_on}`, which was never scheduled: fix `depends_on` in its delta"
    )]
    UnknownBackgroundDependency {
        /// The update.
        update: String,
        /// Its missing dependency.
        depends_on: String,
    },
    /// Pending updates wait on each other.
    #[error("background updates wait on each other in a cycle: {}; fix their `depends_on`", .0.join(", "))]
    BackgroundDependencyCycle(Vec<String>),
    /// A batch failed (the runner retries it).
    #[error("background update `{update}`: batch failed: {source}")]
    BackgroundBatchFailed {
        /// The update.
        update: String,
        /// What failed.
        #[source]
        source: crate::transaction::CodeError,
    },
    /// The same update failed too many times in a row: the runner stopped.
    #[error(
        "background update `{update}` failed {failures} times in a row, the runner stopped: {source}"
    )]
    BackgroundUpdateFailed {
        /// The update.
        update: String,
        /// Failures in a row.
        failures: u32,
        /// The last failure.
        #[source]
        source: crate::transaction::CodeError,
    },
    /// A store named in the options does not exist in the plan.
    #[error("the plan has no store `{0}`")]
    UnknownStore(String),
    /// The database failed outside any delta (bookkeeping, locking, connecting).
    #[error("database error: {0}")]
    Driver(#[from] DriverError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
