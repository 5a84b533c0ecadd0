//! strata's own tables, defined once: the runtime creates them from these statements, and
//! the analysis core (`strata-schema`) starts its model and its validation database with
//! them, so a delta may `INSERT INTO strata_background_updates ...`.

use crate::engine::Engine;

/// The format of the bookkeeping tables this runtime reads and writes.
pub const FORMAT_VERSION: i64 = 1;

/// The statements that create strata's bookkeeping tables on `engine` (idempotent).
pub fn create_statements(engine: Engine) -> &'static [&'static str] {
    // The two engines share the definitions today; they are per engine so that they can
    // diverge without touching callers.
    match engine {
        Engine::Sqlite | Engine::Postgres => &[
            "CREATE TABLE IF NOT EXISTS strata_meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS strata_schema_version (store TEXT NOT NULL PRIMARY KEY, version BIGINT NOT NULL, upgraded BOOLEAN NOT NULL, snapshot_version BIGINT, compat_version BIGINT NOT NULL, plan_digest TEXT, tree_fingerprint TEXT)",
            "CREATE TABLE IF NOT EXISTS strata_applied_deltas (store TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL, engine TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL, duration_ms BIGINT NOT NULL, PRIMARY KEY (store, version, name))",
            "CREATE TABLE IF NOT EXISTS strata_background_updates (update_name TEXT NOT NULL PRIMARY KEY, progress_json TEXT NOT NULL DEFAULT '{}', depends_on TEXT, ordering BIGINT NOT NULL DEFAULT 0, completed_at BIGINT)",
            // Pending updates in run order: `all_completed` and the runner read it, not the table.
            "CREATE INDEX IF NOT EXISTS strata_background_updates_pending ON strata_background_updates (ordering, update_name) WHERE completed_at IS NULL",
        ],
    }
}

/// Whether `table` is one of strata's own tables (they all carry the `strata_` prefix).
pub fn is_bookkeeping(table: &str) -> bool {
    table.starts_with("strata_")
}
