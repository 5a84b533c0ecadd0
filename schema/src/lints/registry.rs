//! Every diagnostic strata can emit: stable code, name, default severity, documentation.
//!
//! The README's lint list is checked against this table by a test.

use crate::diagnostic::Severity::{self, Error, Warning};

/// What a lint is: stable code and name, default severity, and its documentation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LintInfo {
    /// Stable code, e.g. `S107`.
    pub code: &'static str,
    /// Stable kebab-case name, e.g. `sqlite-truncate`.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what it catches.
    pub summary: &'static str,
    /// How to fix it (used as the diagnostic's `help` unless the rule gives a better one).
    pub help: Option<&'static str>,
    /// A bad example (empty for tree-level diagnostics).
    pub bad: &'static str,
    /// The nearest good example.
    pub good: &'static str,
}

macro_rules! lints {
    ($($ident:ident = $code:literal $name:literal $sev:ident
        summary: $summary:literal
        help: $help:expr,
        bad: $bad:literal,
        good: $good:literal;)*) => {
        $(
            #[doc = $summary]
            pub static $ident: LintInfo = LintInfo {
                code: $code,
                name: $name,
                severity: $sev,
                summary: $summary,
                help: $help,
                bad: $bad,
                good: $good,
            };
        )*
        /// All lints, in code order.
        pub static ALL: &[&LintInfo] = &[$(&$ident),*];
    };
}

const REBUILD: &str = "SQLite cannot alter this in place: rebuild the table in a `-- strata: foreign-keys-off` delta (CREATE TABLE new_t (...); INSERT INTO new_t SELECT ... FROM t; DROP TABLE t; ALTER TABLE new_t RENAME TO t; then recreate its indexes and triggers), or put the PostgreSQL form in a `.sql.postgres` file and the rebuild in `.sql.sqlite`";

lints! {
    // ---- the tree -------------------------------------------------------------------------
    UNKNOWN_SUFFIX = "T001" "unknown-suffix" Error
        summary: "a file in a delta or snapshot folder has a suffix strata does not know"
        help: Some("name it `<name>.sql`, `<name>.sql.sqlite`, `<name>.sql.postgres` or (deltas only) `<name>.rs`"),
        bad: "delta/12/01_users.psql", good: "delta/12/01_users.sql.postgres";
    BAD_VERSION_FOLDER = "T002" "bad-version-folder" Error
        summary: "a folder under `delta/` or `full_schemas/` is not a version number"
        help: Some("version folders are plain integers: `delta/12/`"),
        bad: "delta/v12/", good: "delta/12/";
    DUPLICATE_VERSION = "T003" "duplicate-version" Error
        summary: "two folders name the same version (`01` next to `1`)"
        help: Some("merge the folders into one written without leading zeros"),
        bad: "delta/1/ and delta/01/", good: "delta/1/";
    LEADING_ZERO_VERSION = "T004" "leading-zero-version" Warning
        summary: "a version folder is written with leading zeros"
        help: Some("rename the folder without leading zeros"),
        bad: "delta/07/", good: "delta/7/";
    EMPTY_FILE = "T005" "empty-file" Error
        summary: "a SQL file is empty or only whitespace"
        help: Some("delete the file, or keep a comment saying why the delta is empty"),
        bad: "(a zero-byte delta/12/01_x.sql)", good: "-- superseded by 13/01_y.sql";
    NOT_UTF8 = "T006" "not-utf8" Error
        summary: "a file is not valid UTF-8"
        help: Some("re-save the file as UTF-8"),
        bad: "(a Latin-1 encoded file)", good: "(the same file saved as UTF-8)";
    LINK_OUTSIDE_TREE = "T007" "link-outside-tree" Error
        summary: "a symbolic link points outside the tree"
        help: Some("copy the file into the tree instead of linking to it"),
        bad: "delta/12/01_x.sql -> /tmp/x.sql", good: "delta/12/01_x.sql (a regular file)";
    AMBIGUOUS_VARIANTS = "T008" "ambiguous-variants" Error
        summary: "`x.sql` sits next to `x.sql.sqlite` or `x.sql.postgres`"
        help: Some("either one portable `x.sql`, or engine variants `x.sql.sqlite` and `x.sql.postgres`, not both"),
        bad: "01_x.sql + 01_x.sql.sqlite", good: "01_x.sql.sqlite + 01_x.sql.postgres";
    DUPLICATE_DELTA = "T009" "duplicate-delta" Error
        summary: "the same delta name appears in two stores (or in `common` and a store) in one version"
        help: Some("rename one of them: a delta's identity is (store, version, name) and names must not collide within a version"),
        bad: "main/delta/12/01_x.sql + state/delta/12/01_x.sql", good: "main/delta/12/01_x.sql + state/delta/12/02_y.sql";
    BAD_MANIFEST = "T010" "bad-manifest" Error
        summary: "`strata.toml` cannot be read"
        help: Some("see the manifest keys in the README: engines, min_sqlite, min_postgres, compat_version, external_tables, store"),
        bad: "engine = [\"sqlite\"]", good: "engines = [\"sqlite\"]";
    UNEXPECTED_ENTRY = "T011" "unexpected-entry" Warning
        summary: "a file or folder the tree layout does not expect (it is ignored)"
        help: Some("move it out of the tree, or into `delta/<N>/` or `full_schemas/<N>/`"),
        bad: "main/notes.txt", good: "(no stray files)";
    BAD_DIRECTIVE = "T012" "bad-directive" Error
        summary: "a `-- strata:` directive is malformed, unknown or misplaced"
        help: Some("known directives: allow(<lint>), no-transaction, foreign-keys-off, unchecked; each alone on its line"),
        bad: "-- strata: no-transactions", good: "-- strata: no-transaction";
    NO_TRANSACTION_SINGLE = "T013" "no-transaction-single-statement" Error
        summary: "a `no-transaction` delta holds more than one statement"
        help: Some("split it: a delta that runs outside a transaction must hold exactly one statement, so that it can be retried safely"),
        bad: "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY a ON t (x);\nCREATE INDEX CONCURRENTLY b ON t (y);",
        good: "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY a ON t (x);";
    ENGINE_NOT_TARGETED = "T014" "engine-not-targeted" Warning
        summary: "an engine-specific file for an engine the manifest does not target (it is ignored)"
        help: Some("add the engine to `engines` in strata.toml, or delete the file"),
        bad: "01_x.sql.postgres with engines = [\"sqlite\"]", good: "01_x.sql.sqlite";
    MISSING_SNAPSHOT_PART = "T015" "missing-snapshot-part" Error
        summary: "`common` has snapshots but none at a version where a store has one"
        help: Some("add `common/full_schemas/<N>/` for that version (a fresh database loads common's and the store's snapshot of the same version)"),
        bad: "main/full_schemas/20/ without common/full_schemas/20/", good: "common/full_schemas/20/ and main/full_schemas/20/";
    ORPHAN_SCHEMA_EFFECT = "T016" "orphan-schema-effect" Error
        summary: "a `<name>.schema.sql` file without the code delta `<name>.rs` it describes"
        help: Some("rename it to match its code delta, or make it a plain `.sql` delta"),
        bad: "delta/12/01_fix.schema.sql (no 01_fix.rs)", good: "delta/12/01_fix.rs + delta/12/01_fix.schema.sql";

    // ---- statements -----------------------------------------------------------------------
    SYNTAX_ERROR = "Q001" "syntax-error" Error
        summary: "a statement the engine cannot read"
        help: Some("fix the SQL at the marked position"),
        bad: "CREATE TABEL t (a INT);", good: "CREATE TABLE t (a INT);";
    NOT_ANALYSED = "Q002" "not-analysed" Warning
        summary: "sqlparser cannot read a statement the engine may accept: it is not linted"
        help: Some("check it by hand; add `-- strata: unchecked` before it to silence this warning"),
        bad: "ALTER SEQUENCE s OWNED BY t.id;", good: "-- strata: unchecked\nALTER SEQUENCE s OWNED BY t.id;";
    MISSING_SEMICOLON = "Q003" "missing-semicolon" Error
        summary: "two statements glued together by a missing `;`"
        help: Some("add `;` at the end of the previous statement"),
        bad: "CREATE TABLE a (x INT)\nCREATE TABLE b (y INT);", good: "CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);";

    // ---- execution --------------------------------------------------------------------------
    EXECUTION_ERROR = "X001" "execution-error" Error
        summary: "a statement fails when the history is executed on an in-memory SQLite"
        help: Some("fix the statement so that it runs after everything before it in the history"),
        bad: "ALTER TABLE users ADD COLUMN name TEXT; -- name already exists", good: "ALTER TABLE users ADD COLUMN display_name TEXT;";
    FOREIGN_KEY_VIOLATION = "X002" "foreign-key-violation" Error
        summary: "`PRAGMA foreign_key_check` finds violations after a `foreign-keys-off` delta"
        help: Some("the rebuild left rows whose parent is missing: copy the parent table first or delete the orphans"),
        bad: "(a rebuild that drops the parent rows)", good: "(a rebuild that copies every row)";
    SNAPSHOT_DRIFT = "X003" "snapshot-drift" Error
        summary: "a snapshot differs from what its deltas produce"
        help: Some("regenerate the snapshot with `strata dump --version <N>` instead of editing it by hand"),
        bad: "(full_schemas/20 missing an index delta 18 creates)", good: "(full_schemas/20 written by `strata dump`)";

    // ---- SQLite-bound -------------------------------------------------------------------------
    SQLITE_ALTER_COLUMN = "S101" "sqlite-alter-column" Error
        summary: "`ALTER COLUMN` forms the oldest supported SQLite cannot run"
        help: Some(REBUILD),
        bad: "ALTER TABLE users ALTER COLUMN name TYPE TEXT;", good: "-- in 01_x.sql.postgres; a table rebuild in 01_x.sql.sqlite";
    SQLITE_ADD_CONSTRAINT = "S102" "sqlite-add-constraint" Error
        summary: "`ADD CONSTRAINT ... CHECK` / `DROP CONSTRAINT` below SQLite 3.53"
        help: Some(REBUILD),
        bad: "ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0);", good: "(min_sqlite = \"3.53\", or a table rebuild)";
    SQLITE_ALTER_ADD_KEY = "S103" "sqlite-alter-add-key" Error
        summary: "PRIMARY KEY, UNIQUE or FOREIGN KEY added through ALTER TABLE"
        help: Some("SQLite cannot add keys to an existing table: use CREATE UNIQUE INDEX for uniqueness, or rebuild the table for a primary or foreign key"),
        bad: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (x);", good: "CREATE UNIQUE INDEX t_x ON t (x);";
    SQLITE_ADD_COLUMN = "S104" "sqlite-add-column" Error
        summary: "`ADD COLUMN` with PRIMARY KEY, UNIQUE, a non-constant default, REFERENCES with a non-NULL default, GENERATED STORED, or NOT NULL without a default"
        help: Some("add the column nullable (or NOT NULL with a constant DEFAULT), then fill it; for uniqueness add a unique index"),
        bad: "ALTER TABLE t ADD COLUMN created_ts BIGINT NOT NULL;", good: "ALTER TABLE t ADD COLUMN created_ts BIGINT NOT NULL DEFAULT 0;";
    SQLITE_MULTIPLE_ALTER = "S105" "sqlite-multiple-alter" Error
        summary: "several operations in one ALTER TABLE (or ALTER TABLE IF EXISTS)"
        help: Some("write one ALTER TABLE statement per operation"),
        bad: "ALTER TABLE t ADD COLUMN a INT, ADD COLUMN b INT;", good: "ALTER TABLE t ADD COLUMN a INT;\nALTER TABLE t ADD COLUMN b INT;";
    SQLITE_CONCURRENTLY = "S106" "sqlite-concurrently" Error
        summary: "`CREATE INDEX CONCURRENTLY` in a file that runs on SQLite"
        help: Some("put it in a `.sql.postgres` file, with a plain `CREATE INDEX` in `.sql.sqlite` (or schedule a background index)"),
        bad: "CREATE INDEX CONCURRENTLY i ON t (x);", good: "CREATE INDEX i ON t (x); -- in .sql.sqlite";
    SQLITE_TRUNCATE = "S107" "sqlite-truncate" Error
        summary: "`TRUNCATE` does not exist in SQLite"
        help: Some("use `DELETE FROM t` (SQLite optimises an unqualified DELETE)"),
        bad: "TRUNCATE events;", good: "DELETE FROM events;";
    SQLITE_SERIAL = "S108" "sqlite-serial" Error
        summary: "`SERIAL`/`BIGSERIAL`: SQLite accepts the word and silently does not auto-increment"
        help: Some("use `INTEGER PRIMARY KEY` in the SQLite variant and `BIGSERIAL`/identity in the PostgreSQL one"),
        bad: "CREATE TABLE t (id SERIAL PRIMARY KEY);", good: "CREATE TABLE t (id INTEGER PRIMARY KEY); -- .sql.sqlite";
    SQLITE_SEQUENCE = "S109" "sqlite-sequence" Error
        summary: "SQLite has no sequences"
        help: Some("use an `INTEGER PRIMARY KEY` column, or a one-row counter table in the SQLite variant"),
        bad: "CREATE SEQUENCE event_ids;", good: "CREATE TABLE event_id_seq (last BIGINT NOT NULL); -- .sql.sqlite";
    SQLITE_CAST_OPERATOR = "S110" "sqlite-cast-operator" Error
        summary: "the `::` cast operator is PostgreSQL-only"
        help: Some("use `CAST(x AS type)`, which both engines understand"),
        bad: "SELECT '1'::BIGINT;", good: "SELECT CAST('1' AS BIGINT);";
    SQLITE_DROP_COLUMN_IN_USE = "S111" "sqlite-drop-column-in-use" Error
        summary: "`DROP COLUMN` of a column in a key, index, CHECK, view, trigger or table-level foreign key"
        help: Some("drop the index, view or trigger that uses it first; for keys and constraints rebuild the table"),
        bad: "CREATE INDEX i ON t (x);\nALTER TABLE t DROP COLUMN x;", good: "DROP INDEX i;\nALTER TABLE t DROP COLUMN x;";

    // ---- PostgreSQL-bound --------------------------------------------------------------------
    POSTGRES_INSERT_OR = "P201" "postgres-insert-or" Error
        summary: "`INSERT OR IGNORE` / `INSERT OR REPLACE` is SQLite-only"
        help: Some("use `INSERT ... ON CONFLICT (...) DO NOTHING` or `DO UPDATE SET ...`, which both engines understand"),
        bad: "INSERT OR IGNORE INTO t (id) VALUES (1);", good: "INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO NOTHING;";
    POSTGRES_REPLACE_INTO = "P202" "postgres-replace-into" Error
        summary: "`REPLACE INTO` is SQLite/MySQL-only"
        help: Some("use `INSERT ... ON CONFLICT (...) DO UPDATE SET ...`"),
        bad: "REPLACE INTO t (id, v) VALUES (1, 'a');", good: "INSERT INTO t (id, v) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET v = excluded.v;";
    POSTGRES_AUTOINCREMENT = "P203" "postgres-autoincrement" Error
        summary: "`AUTOINCREMENT` is SQLite-only"
        help: Some("use `BIGINT GENERATED BY DEFAULT AS IDENTITY` (or BIGSERIAL) in the `.sql.postgres` variant"),
        bad: "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);", good: "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY); -- .sql.postgres";
    POSTGRES_PRAGMA = "P204" "postgres-pragma" Error
        summary: "`PRAGMA` is SQLite-only"
        help: Some("move it to a `.sql.sqlite` file; for foreign keys use the `-- strata: foreign-keys-off` directive"),
        bad: "PRAGMA foreign_keys = OFF;", good: "-- strata: foreign-keys-off";
    POSTGRES_WITHOUT_ROWID = "P205" "postgres-without-rowid" Error
        summary: "`WITHOUT ROWID` tables are SQLite-only"
        help: Some("put the table in engine variants: WITHOUT ROWID in `.sql.sqlite`, a plain table in `.sql.postgres`"),
        bad: "CREATE TABLE t (k TEXT PRIMARY KEY) WITHOUT ROWID;", good: "CREATE TABLE t (k TEXT PRIMARY KEY);";
    POSTGRES_BLOB = "P206" "postgres-blob" Error
        summary: "`BLOB` does not exist in PostgreSQL"
        help: Some("use `BYTEA` in the `.sql.postgres` variant"),
        bad: "CREATE TABLE t (data BLOB);", good: "CREATE TABLE t (data BYTEA); -- .sql.postgres";
    POSTGRES_CONCURRENTLY_IN_TRANSACTION = "P207" "postgres-concurrently-in-transaction" Error
        summary: "`CREATE INDEX CONCURRENTLY` cannot run inside a transaction"
        help: Some("add `-- strata: no-transaction` at the top of the file, and keep it the only statement of the delta"),
        bad: "CREATE INDEX CONCURRENTLY i ON t (x);", good: "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);";
    POSTGRES_INT_TIMESTAMP = "P208" "postgres-int-timestamp" Warning
        summary: "a 32-bit INT column whose name says milliseconds or a timestamp (`*_ts`, `*_ms`)"
        help: Some("use BIGINT: INTEGER is 32-bit on PostgreSQL and millisecond timestamps overflow it"),
        bad: "CREATE TABLE t (created_ts INT);", good: "CREATE TABLE t (created_ts BIGINT);";
    POSTGRES_BLOCKING_INDEX = "P209" "postgres-blocking-index" Warning
        summary: "a plain `CREATE INDEX` on a table that existed before this version blocks writes while it builds"
        help: Some("schedule a background index update instead (INSERT INTO strata_background_updates ...), which uses CREATE INDEX CONCURRENTLY on PostgreSQL"),
        bad: "CREATE INDEX events_ts ON events (ts); -- events is old", good: "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('events_ts_idx', '{}', NULL, 1201);";
    POSTGRES_ALTER_TYPE = "P210" "postgres-alter-type" Warning
        summary: "`ALTER COLUMN ... TYPE` rewrites the whole table under an exclusive lock"
        help: Some("on big tables add a new column, backfill it in a background update, then switch over"),
        bad: "ALTER TABLE events ALTER COLUMN ts TYPE BIGINT;", good: "ALTER TABLE events ADD COLUMN ts_big BIGINT;";
    POSTGRES_FK_NOT_VALID = "P211" "postgres-fk-not-valid" Warning
        summary: "adding a FOREIGN KEY to an existing table without `NOT VALID` scans it under lock"
        help: Some("add the constraint `NOT VALID`, then `ALTER TABLE ... VALIDATE CONSTRAINT` in a later delta"),
        bad: "ALTER TABLE e ADD CONSTRAINT e_room FOREIGN KEY (room_id) REFERENCES rooms (id);", good: "ALTER TABLE e ADD CONSTRAINT e_room FOREIGN KEY (room_id) REFERENCES rooms (id) NOT VALID;";

    POSTGRES_TOO_NEW = "P212" "postgres-too-new" Error
        summary: "syntax newer than the oldest supported PostgreSQL (`min_postgres`)"
        help: Some("rewrite it for the oldest supported release, or raise `min_postgres` in strata.toml"),
        bad: "CREATE UNIQUE INDEX i ON t (a) NULLS NOT DISTINCT; -- min_postgres = 13", good: "CREATE UNIQUE INDEX i ON t (a) NULLS NOT DISTINCT; -- min_postgres = 15";

    // ---- both engines ------------------------------------------------------------------------
    TRANSACTION_CONTROL = "G301" "transaction-control" Error
        summary: "`BEGIN`, `COMMIT`, `ROLLBACK` or `SAVEPOINT` in a delta"
        help: Some("remove it: strata runs each delta in its own transaction (use `-- strata: no-transaction` to run one outside)"),
        bad: "BEGIN;\nCREATE TABLE t (a INT);\nCOMMIT;", good: "CREATE TABLE t (a INT);";
    DROP_REFERENCED_TABLE = "G302" "drop-referenced-table" Error
        summary: "dropping a table another table still references with a foreign key"
        help: Some("drop the referencing (child) table first, or remove its foreign key; PostgreSQL rejects this even where SQLite lets it pass"),
        bad: "DROP TABLE rooms; -- memberships references rooms", good: "DROP TABLE memberships;\nDROP TABLE rooms;";
    DROP_BEFORE_COMPAT = "G303" "drop-before-compat" Warning
        summary: "a table or column dropped in version V while `compat_version` < V: older code that may still use it can run"
        help: Some("stop reading it in one release, stop writing it in the next, drop it in a third and raise `compat_version` in strata.toml to that version"),
        bad: "DROP TABLE old_events; -- compat_version = 11, delta in 14", good: "DROP TABLE old_events; -- with compat_version = 14";
    UNKNOWN_TABLE = "G304" "unknown-table" Error
        summary: "a statement references a table that does not exist in the store at that point"
        help: Some("create the table in an earlier delta of this store, fix the name, or list it in `external_tables` in strata.toml"),
        bad: "INSERT INTO userz (id) VALUES (1);", good: "INSERT INTO users (id) VALUES (1);";
    UNKNOWN_COLUMN = "G305" "unknown-column" Error
        summary: "a statement names a column its table does not have at that point"
        help: Some("add the column in an earlier delta, or fix the name"),
        bad: "CREATE INDEX i ON users (nmae);", good: "CREATE INDEX i ON users (name);";
    WRONG_STORE = "G306" "wrong-store" Error
        summary: "a delta touches a table that belongs to another store"
        help: Some("move the delta into that store's `delta/<N>/` folder"),
        bad: "main/delta/12/01_x.sql: INSERT INTO state_groups ...", good: "state/delta/12/01_x.sql: INSERT INTO state_groups ...";
    UNKNOWN_DEPENDENCY = "G307" "unknown-dependency" Error
        summary: "a scheduled background update `depends_on` an update the tree never schedules, or one another store schedules"
        help: Some("fix the name in `depends_on`, or schedule that update in an earlier delta of the same store (or of `common`)"),
        bad: "INSERT INTO strata_background_updates (update_name, depends_on) VALUES ('b', 'typo');", good: "INSERT INTO strata_background_updates (update_name, depends_on) VALUES ('b', 'a');";
    BACKGROUND_CYCLE = "G308" "background-dependency-cycle" Error
        summary: "scheduled background updates depend on each other in a cycle (none could ever run)"
        help: Some("break the cycle: one of them must not depend on the others"),
        bad: "('a' depends on 'b') and ('b' depends on 'a')", good: "('b' depends on 'a'), 'a' depends on nothing";
    BAD_BUILTIN_UPDATE = "G309" "bad-builtin-update" Error
        summary: "a scheduled update's `progress_json` describes a built-in update strata cannot read"
        help: Some("write it as {\"builtin\": \"index\", \"index\": ..., \"table\": ..., \"columns\": [...]} or {\"builtin\": \"noop\"}"),
        bad: "INSERT INTO strata_background_updates (update_name, progress_json) VALUES ('i', '{\"builtin\": \"index\"}');", good: "INSERT INTO strata_background_updates (update_name, progress_json) VALUES ('i', '{\"builtin\": \"index\", \"index\": \"t_a\", \"table\": \"t\", \"columns\": [\"a\"]}');";
}

/// Looks a lint up by code (`S107`) or name (`sqlite-truncate`).
pub fn find(code_or_name: &str) -> Option<&'static LintInfo> {
    ALL.iter()
        .copied()
        .find(|l| l.code.eq_ignore_ascii_case(code_or_name) || l.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique() {
        let mut codes: Vec<_> = ALL.iter().map(|l| l.code).collect();
        let mut names: Vec<_> = ALL.iter().map(|l| l.name).collect();
        codes.sort();
        names.sort();
        let n = ALL.len();
        codes.dedup();
        names.dedup();
        assert_eq!(codes.len(), n);
        assert_eq!(names.len(), n);
        assert_eq!(find("s107").map(|l| l.name), Some("sqlite-truncate"));
        assert_eq!(find("postgres-blob").map(|l| l.code), Some("P206"));
    }
}
