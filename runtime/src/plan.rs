//! The migration plan: what `include_migrations!` embeds and what the CLI loads from disk.
//!
//! Every string and list is `'static`: the macro builds the plan in `static`s, and a plan
//! built at run time (`strata_schema::load_plan`, the CLI) is leaked once per process with
//! [`leak`] and [`leak_list`]. One type for both means two plans built from the same tree
//! compare equal field by field.
//!
//! The deltas themselves are packed: every delta of a plan is a record of a few integers in
//! one [`Table`], next to one array of all its strings (statements, names, files, checksums);
//! a store's [`Scripts`] is a range of records, and [`Delta`] and [`Body`] are small views
//! read from the table on access (a few array reads, no parsing, no allocation). Why: rustc
//! type-checks array elements far faster than struct literals. Measured on a 1,000-delta tree
//! (BENCHMARKS.md): one struct literal per delta and body took 0.6 s of type checking with
//! `Cow` fields and 0.2 s with references; the packed arrays take 0.03 s.
//! [`TableBuilder`] is the one way to build a table, for the macro and the CLI alike.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Store {
    /// `main`, `state`, ... or `common`.
    pub name: Str,
    /// Snapshots, by ascending version.
    pub snapshots: List<Snapshot>,
    /// Deltas, by ascending (version, name).
    pub deltas: Scripts,
    /// Digest of everything above: a database migrated by this plan records it, so that the
    /// next start sees "up to date" by reading one row.
    pub digest: Str,
}

/// A snapshot `full_schemas/<version>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Its version.
    pub version: u32,
    /// Its files, in run order.
    pub scripts: Scripts,
}

/// The function a code delta defines: `pub fn migrate(tx: &mut dyn Transaction) -> Result<(), CodeError>`.
pub type CodeFn =
    fn(&mut dyn crate::transaction::Transaction) -> Result<(), crate::transaction::CodeError>;

/// Words per delta record in [`Table::deltas`]: version, name, first body, body count, code
/// (0: none; k + 1: the k-th code delta), code file, code checksum.
const DELTA_WORDS: usize = 7;
/// Words per body record in [`Table::bodies`]: engine (0 SQLite, 1 PostgreSQL), file, first
/// statement, statement count, flags (1 no-transaction, 2 foreign-keys-off), checksum,
/// concurrent index (0: none; i + 1: string i).
const BODY_WORDS: usize = 7;

/// Every delta of a plan, packed (see the [module documentation](self)). Built by
/// [`TableBuilder`]; the macro writes one out as arrays.
#[derive(Clone, Copy)]
pub struct Table {
    strs: &'static [Str],
    deltas: &'static [u32],
    bodies: &'static [u32],
    code: &'static [CodeFn],
}

impl Table {
    /// A table from its arrays: what `include_migrations!` expands to. Use [`TableBuilder`]
    /// instead; the layout is an implementation detail.
    #[doc(hidden)]
    pub const fn from_parts(
        strs: &'static [Str],
        deltas: &'static [u32],
        bodies: &'static [u32],
        code: &'static [CodeFn],
    ) -> Table {
        Table {
            strs,
            deltas,
            bodies,
            code,
        }
    }

    /// The arrays of the table (strings, delta records, body records), for the macro.
    #[doc(hidden)]
    pub fn parts(&self) -> (&'static [Str], &'static [u32], &'static [u32]) {
        (self.strs, self.deltas, self.bodies)
    }

    /// Every delta of the table, in record order, for the macro.
    #[doc(hidden)]
    pub fn all(&'static self) -> Scripts {
        Scripts::new(self, 0, (self.deltas.len() / DELTA_WORDS) as u32)
    }

    fn delta(&'static self, i: usize) -> Delta {
        let r = &self.deltas[i * DELTA_WORDS..(i + 1) * DELTA_WORDS];
        let code = match r[4] {
            0 => None,
            k => Some(CodeDelta {
                file: self.strs[r[5] as usize],
                checksum: self.strs[r[6] as usize],
                run: self.code.get(k as usize - 1).copied(),
            }),
        };
        Delta {
            version: r[0],
            name: self.strs[r[1] as usize],
            code,
            bodies: Bodies {
                table: self,
                start: r[2],
                len: r[3],
            },
        }
    }

    fn body(&self, i: usize) -> Body {
        let r = &self.bodies[i * BODY_WORDS..(i + 1) * BODY_WORDS];
        let (first, count) = (r[2] as usize, r[3] as usize);
        Body {
            engine: if r[0] == 0 {
                Engine::Sqlite
            } else {
                Engine::Postgres
            },
            file: self.strs[r[1] as usize],
            statements: &self.strs[first..first + count],
            no_transaction: r[4] & 1 != 0,
            foreign_keys_off: r[4] & 2 != 0,
            checksum: self.strs[r[5] as usize],
            concurrent_index: r[6].checked_sub(1).map(|i| self.strs[i as usize]),
        }
    }
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("deltas", &(self.deltas.len() / DELTA_WORDS))
            .field("bodies", &(self.bodies.len() / BODY_WORDS))
            .field("strings", &self.strs.len())
            .finish()
    }
}

/// An empty table, for empty lists.
static EMPTY_TABLE: Table = Table::from_parts(&[], &[], &[], &[]);

/// A list of deltas (a store's deltas, a snapshot's files): a range of a [`Table`].
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use strata_runtime::plan::{BodyInput, Scripts, TableBuilder};
/// use strata_runtime::Engine;
/// let mut t = TableBuilder::default();
/// t.push_sql(1, "01_users", &[BodyInput {
///     engine: Engine::Sqlite,
///     file: "delta/1/01_users.sql",
///     statements: &["CREATE TABLE users (id INTEGER PRIMARY KEY)"],
///     no_transaction: false,
///     foreign_keys_off: false,
///     checksum: "c1",
///     concurrent_index: None,
/// }]);
/// let table = t.finish();
/// let deltas = Scripts::new(table, 0, 1);
/// let d = deltas.get(0).unwrap();
/// assert_eq!((d.version, d.name), (1, "01_users"));
/// assert_eq!(d.body(Engine::Sqlite).unwrap().statements.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy)]
pub struct Scripts {
    table: &'static Table,
    start: u32,
    len: u32,
}

impl Scripts {
    /// No deltas.
    pub const EMPTY: Scripts = Scripts::new(&EMPTY_TABLE, 0, 0);

    /// Deltas `start..start + len` of `table`.
    ///
    /// # Panics
    /// When the range is outside the table.
    pub const fn new(table: &'static Table, start: u32, len: u32) -> Scripts {
        assert!(
            (start as usize + len as usize) * DELTA_WORDS <= table.deltas.len(),
            "Scripts::new: range outside the table"
        );
        Scripts { table, start, len }
    }

    /// The number of deltas.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`-th delta.
    pub fn get(&self, i: usize) -> Option<Delta> {
        (i < self.len()).then(|| self.table.delta(self.start as usize + i))
    }

    /// The last delta.
    pub fn last(&self) -> Option<Delta> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The deltas, in order.
    pub fn iter(&self) -> ScriptsIter {
        let start = self.start as usize;
        ScriptsIter {
            table: self.table,
            range: start..start + self.len(),
        }
    }

    /// The table and range behind the list, for the macro.
    #[doc(hidden)]
    pub fn raw(&self) -> (&'static Table, u32, u32) {
        (self.table, self.start, self.len)
    }
}

impl IntoIterator for Scripts {
    type Item = Delta;
    type IntoIter = ScriptsIter;
    fn into_iter(self) -> ScriptsIter {
        self.iter()
    }
}

impl IntoIterator for &Scripts {
    type Item = Delta;
    type IntoIter = ScriptsIter;
    fn into_iter(self) -> ScriptsIter {
        self.iter()
    }
}

/// The deltas of a [`Scripts`], in order.
#[derive(Debug, Clone)]
pub struct ScriptsIter {
    table: &'static Table,
    range: std::ops::Range<usize>,
}

impl Iterator for ScriptsIter {
    type Item = Delta;
    fn next(&mut self) -> Option<Delta> {
        self.range.next().map(|i| self.table.delta(i))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl DoubleEndedIterator for ScriptsIter {
    fn next_back(&mut self) -> Option<Delta> {
        self.range.next_back().map(|i| self.table.delta(i))
    }
}

impl ExactSizeIterator for ScriptsIter {}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Two lists are equal when their deltas are, wherever they are stored.
impl PartialEq for Scripts {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Scripts {}

/// A delta (or one file of a snapshot): one body per engine it runs on. A view of a
/// [`Table`] record: cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    /// The version folder.
    pub version: u32,
    /// File name without suffixes.
    pub name: Str,
    /// A code delta (`delta/<N>/<name>.rs`).
    pub code: Option<CodeDelta>,
    bodies: Bodies,
}

/// A delta's bodies.
#[derive(Clone, Copy)]
struct Bodies {
    table: &'static Table,
    start: u32,
    len: u32,
}

impl Bodies {
    fn iter(self) -> impl ExactSizeIterator<Item = Body> + use<> {
        (self.start as usize..(self.start + self.len) as usize).map(move |i| self.table.body(i))
    }
}

impl std::fmt::Debug for Bodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Bodies {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Bodies {}

/// A code delta: Rust compiled into the application by `include_migrations!`.
#[derive(Debug, Clone, Copy)]
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
    /// The bodies, one per engine the delta runs on (none for a code delta).
    pub fn bodies(&self) -> impl ExactSizeIterator<Item = Body> + use<> {
        self.bodies.iter()
    }

    /// The checksum recorded when the delta runs on `engine` (empty when it has no body
    /// there).
    pub fn checksum(&self, engine: Engine) -> Str {
        match (&self.code, self.body(engine)) {
            (Some(code), _) => code.checksum,
            (None, Some(body)) => body.checksum,
            (None, None) => "",
        }
    }

    /// The body for `engine`, if the delta runs there.
    pub fn body(&self, engine: Engine) -> Option<Body> {
        self.bodies().find(|b| b.engine == engine)
    }
}

/// A delta's SQL for one engine, pre-split into statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A body to add to a [`TableBuilder`].
#[derive(Debug, Clone, Copy)]
pub struct BodyInput<'a> {
    /// The engine.
    pub engine: Engine,
    /// Path of the file relative to the tree root.
    pub file: &'a str,
    /// The statements, without their terminating `;`.
    pub statements: &'a [&'a str],
    /// `-- strata: no-transaction`.
    pub no_transaction: bool,
    /// `-- strata: foreign-keys-off`.
    pub foreign_keys_off: bool,
    /// The checksum.
    pub checksum: &'a str,
    /// See [`Body::concurrent_index`].
    pub concurrent_index: Option<&'a str>,
}

/// Builds a [`Table`]: push every delta of the plan, store after store, then take each
/// store's range with [`Scripts::new`] on the finished table. Strings are stored once; a
/// statement list identical to an earlier one (the same file on both engines) is shared.
#[derive(Debug, Default)]
pub struct TableBuilder {
    strs: Vec<String>,
    index: std::collections::HashMap<String, u32>,
    lists: std::collections::HashMap<Vec<String>, u32>,
    deltas: Vec<u32>,
    bodies: Vec<u32>,
    code_deltas: u32,
}

impl TableBuilder {
    /// The number of deltas pushed so far: the start of the next range.
    pub fn len(&self) -> u32 {
        (self.deltas.len() / DELTA_WORDS) as u32
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.deltas.is_empty()
    }

    fn str(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strs.len() as u32;
        self.strs.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }

    fn list(&mut self, items: &[&str]) -> u32 {
        let key: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        if let Some(&i) = self.lists.get(&key) {
            return i;
        }
        let i = self.strs.len() as u32;
        self.strs.extend(key.iter().cloned());
        self.lists.insert(key, i);
        i
    }

    /// Adds a SQL delta with its bodies.
    pub fn push_sql(&mut self, version: u32, name: &str, bodies: &[BodyInput<'_>]) {
        let name = self.str(name);
        let first = (self.bodies.len() / BODY_WORDS) as u32;
        for b in bodies {
            let record = [
                u32::from(b.engine == Engine::Postgres),
                self.str(b.file),
                self.list(b.statements),
                b.statements.len() as u32,
                u32::from(b.no_transaction) | u32::from(b.foreign_keys_off) << 1,
                self.str(b.checksum),
                b.concurrent_index.map_or(0, |c| self.str(c) + 1),
            ];
            self.bodies.extend(record);
        }
        self.deltas
            .extend([version, name, first, bodies.len() as u32, 0, 0, 0]);
    }

    /// Adds a code delta. Its function is the k-th entry of the table's code array, k
    /// counting the code deltas pushed before it.
    pub fn push_code(&mut self, version: u32, name: &str, file: &str, checksum: &str) {
        let name = self.str(name);
        self.code_deltas += 1;
        let record = [
            version,
            name,
            0,
            0,
            self.code_deltas,
            self.str(file),
            self.str(checksum),
        ];
        self.deltas.extend(record);
    }

    /// The table, leaked (see [`leak`]), without code functions: what a plan loaded from
    /// disk has.
    pub fn finish(self) -> &'static Table {
        let strs = leak_list(self.strs.into_iter().map(leak).collect());
        Box::leak(Box::new(Table::from_parts(
            strs,
            leak_list(self.deltas),
            leak_list(self.bodies),
            &[],
        )))
    }
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

    /// The background updates that `store`'s deltas up to `version` schedule.
    pub fn updates_scheduled_up_to<'a>(
        &'a self,
        store: &'a str,
        version: u32,
    ) -> impl Iterator<Item = &'a ScheduledUpdate> {
        self.background_updates
            .iter()
            .filter(move |u| u.store == store && u.version <= version)
    }

    /// The store called `name` (`common` included).
    pub fn store(&self, name: &str) -> Option<&Store> {
        self.stores
            .iter()
            .chain(self.common.as_ref())
            .find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body<'a>(engine: Engine, statements: &'a [&'a str]) -> BodyInput<'a> {
        BodyInput {
            engine,
            file: "delta/1/01_t.sql",
            statements,
            no_transaction: false,
            foreign_keys_off: engine == Engine::Postgres,
            checksum: "c",
            concurrent_index: (engine == Engine::Postgres).then_some("t_idx"),
        }
    }

    #[test]
    fn views_read_back_what_was_pushed_and_identical_lists_are_stored_once() {
        let stmts = ["CREATE TABLE t (a INT)", "INSERT INTO t VALUES (1)"];
        let mut b = TableBuilder::default();
        b.push_sql(
            1,
            "01_t",
            &[body(Engine::Sqlite, &stmts), body(Engine::Postgres, &stmts)],
        );
        b.push_code(2, "01_fix", "delta/2/01_fix.rs", "cc");
        assert_eq!(b.len(), 2);
        let table = b.finish();
        let (strs, _, _) = table.parts();
        // Two statements, one name, one file, one checksum, one index name, one code name,
        // file and checksum: the statements of the second body are the first body's.
        assert_eq!(strs.len(), 9, "{strs:?}");
        let all = Scripts::new(table, 0, 2);
        let d = all.get(0).unwrap();
        assert_eq!((d.version, d.name, d.code), (1, "01_t", None));
        let bodies: Vec<Body> = d.bodies().collect();
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[0].statements, stmts);
        assert_eq!(bodies[1].statements, stmts);
        assert!(!bodies[0].foreign_keys_off && bodies[1].foreign_keys_off);
        assert_eq!(bodies[0].concurrent_index, None);
        assert_eq!(bodies[1].concurrent_index, Some("t_idx"));
        assert_eq!(d.checksum(Engine::Postgres), "c");
        let code = all.last().unwrap();
        assert_eq!(code.bodies().len(), 0);
        let c = code.code.unwrap();
        assert_eq!(
            (c.file, c.checksum, c.run.is_none()),
            ("delta/2/01_fix.rs", "cc", true)
        );
        assert_eq!(code.checksum(Engine::Sqlite), "cc");
        assert!(all.get(2).is_none());
        assert_eq!(
            all.iter().rev().map(|d| d.version).collect::<Vec<_>>(),
            [2, 1]
        );
    }

    #[test]
    fn lists_compare_by_content_wherever_they_are_stored() {
        let stmts = ["CREATE TABLE t (a INT)"];
        let mut one = TableBuilder::default();
        one.push_sql(1, "01_t", &[body(Engine::Sqlite, &stmts)]);
        let one = Scripts::new(one.finish(), 0, 1);
        let mut two = TableBuilder::default();
        two.push_code(1, "00_other", "delta/1/00_other.rs", "x");
        two.push_sql(1, "01_t", &[body(Engine::Sqlite, &stmts)]);
        let two_table = two.finish();
        assert_eq!(one, Scripts::new(two_table, 1, 1));
        assert_ne!(one, Scripts::new(two_table, 0, 1));
        assert_ne!(one, Scripts::new(two_table, 0, 2));
        assert_eq!(Scripts::EMPTY, Scripts::new(two_table, 2, 0));
    }

    #[test]
    #[should_panic(expected = "range outside the table")]
    fn a_range_outside_the_table_is_refused() {
        let _ = Scripts::new(TableBuilder::default().finish(), 0, 1);
    }
}
