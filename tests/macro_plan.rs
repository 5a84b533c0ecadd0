//! `include_migrations!` embeds the plan the CLI loads from disk, field by field.

mod common;

use strata::Migrations;

static EMBEDDED: Migrations = strata::include_migrations!("examples/chat/schema");

#[test]
fn embedded_plan_equals_the_plan_loaded_at_run_time() {
    let loaded = common::plan(&common::example_tree());
    assert_eq!(EMBEDDED.engines, loaded.engines);
    assert_eq!(EMBEDDED.target_version, loaded.target_version);
    assert_eq!(EMBEDDED.compat_version, loaded.compat_version);
    assert_eq!(EMBEDDED.fingerprint, loaded.fingerprint);
    assert_eq!(EMBEDDED.common, loaded.common);
    for (embedded, loaded) in EMBEDDED.stores.iter().zip(loaded.stores.iter()) {
        assert_eq!(embedded.name, loaded.name);
        for (e, l) in embedded.deltas.iter().zip(loaded.deltas.iter()) {
            assert_eq!(e, l, "delta {}/{}", e.version, e.name);
        }
        assert_eq!(embedded, loaded);
    }
    assert_eq!(EMBEDDED.background_updates, loaded.background_updates);
    assert_eq!(EMBEDDED, loaded);
}

#[test]
fn embedded_plan_migrates_a_database() -> Result<(), Box<dyn std::error::Error>> {
    let conn = strata::testing::sqlite(&EMBEDDED)?;
    let version: i64 = conn.query_row(
        "SELECT version FROM strata_schema_version WHERE store = 'main'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(version, 15);
    // The code delta of version 15 ran from its compiled-in function.
    let applied: i64 = conn.query_row(
        "SELECT count(*) FROM strata_applied_deltas WHERE name = '02_displayname_whitespace'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(applied, 1);
    Ok(())
}

strata::include_migrations!(pub mod db = "examples/chat/schema");

#[test]
fn item_form_generates_the_plan_and_typed_names() {
    assert_eq!(db::MIGRATIONS, EMBEDDED);
    assert_eq!(db::users::TABLE, "users");
    assert_eq!(db::users::NAME, "name");
    // Columns added by deltas after the snapshot are there too.
    assert_eq!(db::users::SHADOW_BANNED, "shadow_banned");
    assert_eq!(db::state_groups::STORES, &["state"]);
    assert_eq!(db::instance_settings::STORES, &["common"]);
    assert_eq!(db::events::TABLE, "events");
}

strata::include_migrations!(mod kw = "tests/fixtures/keywords");

/// Rust keywords become raw identifiers, names Rust cannot spell get a `_`, a column named
/// like a generated constant gets `_COLUMN`, engine-only columns exist (documented as such).
#[test]
fn item_form_names_keywords_and_engine_only_columns() {
    assert_eq!(kw::r#type::TABLE, "type");
    assert_eq!(kw::r#type::TABLE_COLUMN, "table");
    assert_eq!(kw::r#type::FN, "fn");
    assert_eq!(kw::r#type::SELF, "self");
    assert_eq!(kw::r#type::_2FA, "2fa");
    assert_eq!(kw::r#type::SQLITE_ONLY, "sqlite_only");
}
