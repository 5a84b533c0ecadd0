//! The database engines strata targets.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};

/// A target database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// SQLite (through rusqlite at run time).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Engine {
    /// Both engines, in the order strata reports them.
    pub const ALL: [Engine; 2] = [Engine::Sqlite, Engine::Postgres];

    /// The lowercase name used in file suffixes, the manifest and diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }

    /// The sqlparser dialect statements for this engine are tokenized and parsed with.
    pub fn dialect(self) -> &'static dyn Dialect {
        match self {
            Engine::Sqlite => &SQLiteDialect {},
            Engine::Postgres => &PostgreSqlDialect {},
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sqlite" => Ok(Engine::Sqlite),
            "postgres" | "postgresql" => Ok(Engine::Postgres),
            other => Err(format!(
                "unknown engine `{other}`: expected `sqlite` or `postgres`"
            )),
        }
    }
}
