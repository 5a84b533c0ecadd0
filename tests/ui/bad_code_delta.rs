// The path is relative to the crate trybuild generates under target/tests/trybuild/strata.
static MIGRATIONS: strata::Migrations = strata::include_migrations!("../../../../tests/ui/trees/bad_code_delta");

fn main() {
    let _ = &MIGRATIONS;
}
