//! The database engines strata targets, and the sqlparser dialect of each.

use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};

pub use strata_runtime::Engine;

/// The sqlparser dialect statements for `engine` are tokenized and parsed with.
pub fn dialect(engine: Engine) -> &'static dyn Dialect {
    match engine {
        Engine::Sqlite => &SQLiteDialect {},
        Engine::Postgres => &PostgreSqlDialect {},
    }
}
