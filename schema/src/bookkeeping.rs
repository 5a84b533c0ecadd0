//! strata's own tables. Defined once here: the runtime creates them from these statements,
//! and the analysis model and the validation database start with them, so a delta may
//! `INSERT INTO strata_background_updates ...` to schedule a background update.

use crate::engine::Engine;

/// The statements that create strata's bookkeeping tables on `engine`.
pub fn create_statements(engine: Engine) -> &'static [&'static str] {
    match engine {
        Engine::Sqlite => &[
            "CREATE TABLE strata_schema_version (store TEXT NOT NULL PRIMARY KEY, version BIGINT NOT NULL, upgraded BOOLEAN NOT NULL, snapshot_version BIGINT, compat_version BIGINT NOT NULL)",
            "CREATE TABLE strata_applied_deltas (store TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL, engine TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL, duration_ms BIGINT NOT NULL, PRIMARY KEY (store, version, name))",
            "CREATE TABLE strata_background_updates (update_name TEXT NOT NULL PRIMARY KEY, progress_json TEXT NOT NULL DEFAULT '{}', depends_on TEXT, ordering BIGINT NOT NULL DEFAULT 0, completed_at BIGINT)",
        ],
        Engine::Postgres => &[
            "CREATE TABLE strata_schema_version (store TEXT NOT NULL PRIMARY KEY, version BIGINT NOT NULL, upgraded BOOLEAN NOT NULL, snapshot_version BIGINT, compat_version BIGINT NOT NULL)",
            "CREATE TABLE strata_applied_deltas (store TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL, engine TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL, duration_ms BIGINT NOT NULL, PRIMARY KEY (store, version, name))",
            "CREATE TABLE strata_background_updates (update_name TEXT NOT NULL PRIMARY KEY, progress_json TEXT NOT NULL DEFAULT '{}', depends_on TEXT, ordering BIGINT NOT NULL DEFAULT 0, completed_at BIGINT)",
        ],
    }
}

/// Whether `table` is one of strata's own tables (they all carry the `strata_` prefix).
pub fn is_bookkeeping(table: &str) -> bool {
    table.starts_with("strata_")
}
