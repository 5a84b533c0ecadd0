//! `strata.toml`, the optional manifest at the root of a tree.
//!
//! Every key is optional:
//!
//! ```toml
//! engines = ["sqlite", "postgres"]   # target engines (default: both)
//! min_sqlite = "3.35"                # oldest SQLite the application supports (default 3.35)
//! min_postgres = 13                  # oldest PostgreSQL major version (default 13)
//! compat_version = 14                # oldest code version that can use the newest schema
//!                                    # (default: the target version, i.e. the newest delta)
//! external_tables = ["auth_users"]   # tables that exist outside the tree
//! store = "main"                     # store name of a single-store tree (default "main")
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use crate::engine::Engine;

/// A SQLite release, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SqliteVersion(pub u32, pub u32, pub u32);

impl SqliteVersion {
    /// SQLite 3.35.0: `DROP COLUMN` and `RETURNING` (the default oldest supported release).
    pub const DEFAULT_MIN: SqliteVersion = SqliteVersion(3, 35, 0);
    /// SQLite 3.53.0: `ALTER COLUMN ... SET/DROP NOT NULL`, `ADD CHECK`, `DROP CONSTRAINT`.
    /// (3.52.0 was withdrawn; 3.51.3 does not have them.)
    pub const ALTER_CONSTRAINTS: SqliteVersion = SqliteVersion(3, 53, 0);
}

impl fmt::Display for SqliteVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl FromStr for SqliteVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Result<Vec<u32>, _> = s.trim().split('.').map(str::parse).collect();
        match parts.as_deref() {
            Ok([3, minor]) => Ok(SqliteVersion(3, *minor, 0)),
            Ok([3, minor, patch]) => Ok(SqliteVersion(3, *minor, *patch)),
            _ => Err(format!(
                "invalid SQLite version `{s}`: write it as \"3.<minor>\" or \"3.<minor>.<patch>\""
            )),
        }
    }
}

impl<'de> Deserialize<'de> for SqliteVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn engines<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Engine>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| s.parse().map_err(serde::de::Error::custom))
        .collect()
}

/// The parsed `strata.toml` with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Manifest {
    /// Target engines.
    #[serde(deserialize_with = "engines")]
    pub engines: Vec<Engine>,
    /// Oldest supported SQLite release.
    pub min_sqlite: SqliteVersion,
    /// Oldest supported PostgreSQL major version.
    pub min_postgres: u32,
    /// The compat version the newest schema needs; `None` means the target version.
    pub compat_version: Option<u32>,
    /// Tables that exist outside the tree (created by something else).
    pub external_tables: Vec<String>,
    /// Name of the store of a single-store tree.
    pub store: String,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            engines: Engine::ALL.to_vec(),
            min_sqlite: SqliteVersion::DEFAULT_MIN,
            min_postgres: 13,
            compat_version: None,
            external_tables: Vec::new(),
            store: "main".to_string(),
        }
    }
}

impl Manifest {
    /// Parses a manifest. The error carries the byte range of the offending value.
    pub fn parse(text: &str) -> Result<Manifest, (String, Option<std::ops::Range<usize>>)> {
        let mut manifest: Manifest =
            toml::from_str(text).map_err(|e| (e.message().to_string(), e.span()))?;
        if manifest.engines.is_empty() {
            return Err(("`engines` must name at least one engine".to_string(), None));
        }
        manifest.engines.sort();
        manifest.engines.dedup();
        if manifest.store == "common" || manifest.store.is_empty() {
            return Err((
                format!("`store = \"{}\"` is not a valid store name", manifest.store),
                None,
            ));
        }
        Ok(manifest)
    }

    /// Whether `engine` is a target of this tree.
    pub fn targets(&self, engine: Engine) -> bool {
        self.engines.contains(&engine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(Manifest::parse("").unwrap(), Manifest::default());
        let m =
            Manifest::parse("engines = [\"sqlite\"]\nmin_sqlite = \"3.53\"\ncompat_version = 7")
                .unwrap();
        assert_eq!(m.engines, vec![Engine::Sqlite]);
        assert_eq!(m.min_sqlite, SqliteVersion(3, 53, 0));
        assert_eq!(m.compat_version, Some(7));
    }

    #[test]
    fn rejects_unknown_keys_with_a_span() {
        let (msg, span) = Manifest::parse("engine = [\"sqlite\"]").unwrap_err();
        assert!(msg.contains("unknown field"), "{msg}");
        assert!(span.is_some());
        assert!(Manifest::parse("min_sqlite = \"4.1\"").is_err());
        assert!(Manifest::parse("engines = []").is_err());
    }
}
