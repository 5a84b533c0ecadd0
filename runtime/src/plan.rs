//! The migration plan: what `include_migrations!` embeds and what the CLI loads from disk.
//!
//! Every string and list is `'static`: the macro builds the plan from literals in a `static`,
//! and a plan built at run time (`strata_schema::load_plan`, the CLI) is leaked once per
//! process with [`leak`] and [`leak_list`]. One type for both means two plans built from the
//! same tree compare equal field by field. (`Cow` fields were tried first: rustc type-checks a
//! `Cow::Borrowed(..)` in a constant about three times slower than a plain reference, which
//! made a 1,000-delta tree take half a second more to compile; see BENCHMARKS.md.)

use crate::engine::Engine;

/// A string of the plan.
pub type Str = &'static str;
/// A list of the plan.
pub type List<T> = &'static [T];

/// Moves a string built at run time into the plan: it is never freed. Build a plan once per
/// process (the CLI does).
///
/// ```
/// let name: strata_runtime::plan::Str = strata_runtime::plan::leak(format!("delta_{}", 7));
/// assert_eq!(name, "delta_7");
/// ```
pub fn leak(s: impl Into<String>) -> Str {
    Box::leak(s.into().into_boxed_str())
}

/// Moves a list built at run time into the plan, like [`leak`].
pub fn leak_list<T>(items: Vec<T>) -> List<T> {
    Box::leak(items.into_boxed_slice())
}

/// The whole plan of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrations {
    /// The engines the tree targets.
    pub engines: List<Engine>,
    /// The stores (not `common`), by name.
    pub stores: List<Store>,
    /// The scripts every physical database gets once (`common`), if any.
    pub common: Option<Store>,
    /// The newest version of the tree.
    pub target_version: u32,
    /// The oldest code version that can use a database at `target_version`.
    pub compat_version: u32,
    /// A digest of every file of the tree (tells a stale binary from a bad database).
    pub fingerprint: Str,
    /// Background updates the deltas schedule, in history order.
    pub background_updates: List<ScheduledUpdate>,
}

/// One store's scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// `main`, `state`, ... or `common`.
    pub name: Str,
    /// Snapshots, by ascending version.
    pub snapshots: List<Snapshot>,
    /// Deltas, by ascending (version, name).
    pub deltas: List<Delta>,
    /// Digest of everything above: a database migrated by this plan records it, so that the
    /// next start sees "up to date" by reading one row.
    pub digest: Str,
}

/// A snapshot `full_schemas/<version>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Its version.
    pub version: u32,
    /// Its files, in run order.
    pub scripts: List<Delta>,
}

/// A delta (or one file of a snapshot): one body per engine it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    /// The version folder.
    pub version: u32,
    /// File name without suffixes.
    pub name: Str,
    /// Bodies, one per engine the delta runs on (none for a code delta).
    pub bodies: List<Body>,
    /// A code delta (`delta/<N>/<name>.rs`).
    pub code: Option<CodeDelta>,
}

/// The function a code delta defines: `pub fn migrate(tx: &mut dyn Transaction) -> Result<(), CodeError>`.
pub type CodeFn =
    fn(&mut dyn crate::transaction::Transaction) -> Result<(), crate::transaction::CodeError>;

/// A code delta: Rust compiled into the application by `include_migrations!`.
#[derive(Debug, Clone)]
pub struct CodeDelta {
    /// Path of the `.rs` file relative to the tree root.
    pub file: Str,
    /// Checksum of the file (and of its `.schema.sql` companion).
    pub checksum: Str,
    /// The function; `None` in a plan loaded from disk at run time, which cannot run it.
    pub run: Option<CodeFn>,
}

/// Code deltas compare by file and checksum: a plan loaded from disk (without the function)
/// equals the embedded one.
impl PartialEq for CodeDelta {
    fn eq(&self, other: &Self) -> bool {
        self.file == other.file && self.checksum == other.checksum
    }
}

impl Eq for CodeDelta {}

impl Delta {
    /// The checksum recorded when the delta runs on `engine` (empty when it has no body
    /// there).
    pub fn checksum(&self, engine: Engine) -> &str {
        match (&self.code, self.body(engine)) {
            (Some(code), _) => code.checksum,
            (None, Some(body)) => body.checksum,
            (None, None) => "",
        }
    }

    /// The body for `engine`, if the delta runs there.
    pub fn body(&self, engine: Engine) -> Option<&Body> {
        self.bodies.iter().find(|b| b.engine == engine)
    }
}

/// A delta's SQL for one engine, pre-split into statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// The engine.
    pub engine: Engine,
    /// Path of the file relative to the tree root.
    pub file: Str,
    /// The statements, without their terminating `;`.
    pub statements: List<Str>,
    /// `-- strata: no-transaction`.
    pub no_transaction: bool,
    /// `-- strata: foreign-keys-off`.
    pub foreign_keys_off: bool,
    /// The checksum (hex SHA-256 of the normalised body).
    pub checksum: Str,
    /// For a `no-transaction` `CREATE INDEX CONCURRENTLY`: the index it builds, dropped
    /// first when an interrupted build left it INVALID.
    pub concurrent_index: Option<Str>,
}

/// A background update a delta schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledUpdate {
    /// Store of the scheduling delta.
    pub store: Str,
    /// Version of the scheduling delta.
    pub version: u32,
    /// Name of the scheduling delta.
    pub delta: Str,
    /// `update_name`.
    pub name: Str,
    /// `depends_on`.
    pub depends_on: Option<Str>,
    /// `ordering`.
    pub ordering: Option<i64>,
}

impl Migrations {
    /// A plan with nothing in it (what `include_migrations!` expands to next to its compile
    /// errors, so that no secondary errors follow).
    pub const EMPTY: Migrations = Migrations {
        engines: &[],
        stores: &[],
        common: None,
        target_version: 0,
        compat_version: 0,
        fingerprint: "",
        background_updates: &[],
    };

    /// The store called `name` (`common` included).
    pub fn store(&self, name: &str) -> Option<&Store> {
        self.stores
            .iter()
            .chain(self.common.as_ref())
            .find(|s| s.name == name)
    }
}
