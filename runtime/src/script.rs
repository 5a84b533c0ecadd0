//! An SQL script of the steps a migrator would take, for a DBA to run by hand: the statements
//! and the bookkeeping rows strata would record, so that strata later sees them as applied.

use std::fmt::Write;

use crate::engine::Engine;
use crate::migrate::Step;
use crate::plan::Migrations;

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The script of `steps` for `engine`. `applied_at` is recorded as 0 (unknown). A code delta
/// cannot be written as SQL: it is an error naming it.
pub fn sql_script(
    plan: &Migrations,
    steps: &[Step<'_>],
    engine: Engine,
) -> Result<String, crate::Error> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "-- strata: {} step(s) for {engine}, target version {}\n-- Run it as a whole; it records what it applies in strata's bookkeeping tables.\n",
        steps.len(),
        plan.target_version
    );
    out.push_str("BEGIN;\n");
    for sql in crate::bookkeeping::create_statements(engine) {
        let _ = writeln!(out, "{sql};");
    }
    let _ = writeln!(
        out,
        "INSERT INTO strata_meta (key, value) VALUES ('format_version', '{}') ON CONFLICT (key) DO NOTHING;",
        crate::bookkeeping::FORMAT_VERSION
    );
    let version_row = |out: &mut String,
                       store: &str,
                       version: u32,
                       upgraded: bool,
                       snapshot: &str| {
        let _ = writeln!(
            out,
            "INSERT INTO strata_schema_version (store, version, upgraded, snapshot_version, compat_version) VALUES ({}, {version}, {}, {snapshot}, {}) \
             ON CONFLICT (store) DO UPDATE SET version = excluded.version, upgraded = excluded.upgraded, compat_version = CASE WHEN strata_schema_version.compat_version > excluded.compat_version THEN strata_schema_version.compat_version ELSE excluded.compat_version END;",
            quote(store),
            if upgraded { "TRUE" } else { "FALSE" },
            plan.compat_version.min(version)
        );
    };
    for step in steps {
        match step {
            Step::Snapshot {
                store,
                version,
                bodies,
            } => {
                let _ = writeln!(out, "\n-- snapshot {store}/full_schemas/{version}");
                for b in bodies {
                    for sql in b.statements.iter() {
                        let _ = writeln!(out, "{sql};");
                    }
                }
                // As `Migrator` does: the updates the snapshot's history scheduled are done.
                for u in plan.updates_scheduled_up_to(store, *version) {
                    let _ = writeln!(
                        out,
                        "INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering, completed_at) VALUES ({}, '{{}}', {}, {}, 0) ON CONFLICT (update_name) DO NOTHING;",
                        quote(u.name),
                        u.depends_on.map_or("NULL".to_string(), quote),
                        u.ordering.unwrap_or(0)
                    );
                }
                version_row(&mut out, store, *version, false, &version.to_string());
            }
            Step::Delta { store, delta, body } => {
                if let Some(code) = &delta.code {
                    return Err(crate::Error::CodeDeltaUnavailable {
                        store: store.to_string(),
                        version: delta.version,
                        name: delta.name.to_string(),
                        file: code.file.to_string(),
                    });
                }
                let file = body.map_or("(not for this engine)", |b| b.file);
                let _ = writeln!(
                    out,
                    "\n-- delta {store}/{}/{} ({file})",
                    delta.version, delta.name
                );
                let no_tx = body.is_some_and(|b| b.no_transaction);
                let fk_off = body.is_some_and(|b| b.foreign_keys_off) && engine == Engine::Sqlite;
                if no_tx || fk_off {
                    out.push_str("COMMIT;\n");
                }
                if fk_off {
                    out.push_str("PRAGMA foreign_keys = OFF;\nBEGIN;\n");
                }
                for sql in body.iter().flat_map(|b| b.statements.iter()) {
                    let _ = writeln!(out, "{sql};");
                }
                if no_tx {
                    out.push_str("BEGIN;\n");
                }
                let _ = writeln!(
                    out,
                    "INSERT INTO strata_applied_deltas (store, version, name, engine, checksum, applied_at, duration_ms) VALUES ({}, {}, {}, {}, {}, 0, 0);",
                    quote(store),
                    delta.version,
                    quote(delta.name),
                    quote(engine.name()),
                    quote(delta.checksum(engine)),
                );
                version_row(&mut out, store, delta.version, true, "NULL");
                if fk_off {
                    out.push_str("-- check that this returns no rows before going on:\nPRAGMA foreign_key_check;\nCOMMIT;\nPRAGMA foreign_keys = ON;\nBEGIN;\n");
                }
            }
        }
    }
    // Like the migrator: a store that ran everything up to the target is at the target
    // (some versions have no delta for it).
    let mut stores: Vec<&str> = steps
        .iter()
        .map(|s| match s {
            Step::Snapshot { store, .. } | Step::Delta { store, .. } => *store,
        })
        .collect();
    stores.dedup();
    for store in stores {
        let _ = writeln!(
            out,
            "\nUPDATE strata_schema_version SET version = {target}, compat_version = CASE WHEN compat_version > {compat} THEN compat_version ELSE {compat} END WHERE store = {};",
            quote(store),
            target = plan.target_version,
            compat = plan.compat_version,
        );
    }
    out.push_str("\nCOMMIT;\n");
    Ok(out)
}
