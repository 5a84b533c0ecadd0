static MIGRATIONS: strata::Migrations = strata::include_migrations!("schema", deny_warning);

fn main() {
    let _ = &MIGRATIONS;
}
