//! The database engines strata targets.

use std::fmt;
use std::str::FromStr;

/// A target database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Engine {
    /// SQLite (through rusqlite).
    Sqlite,
    /// PostgreSQL (through the `postgres` crate).
    Postgres,
}

impl Engine {
    /// Both engines, in the order strata reports them.
    pub const ALL: [Engine; 2] = [Engine::Sqlite, Engine::Postgres];

    /// The lowercase name used in file suffixes, manifests, bookkeeping and diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
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
